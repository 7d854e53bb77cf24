package dev.ferry.cli;

import dev.ferry.orchestrator.registry.InstanceEntity;

/** Instance ids as the registry accepts them, checked before a command contacts the cluster. */
final class InstanceIds {
    private InstanceIds() {}

    static String check(String id) {
        if (!InstanceEntity.VALID_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("--id '" + id + "' must be 1 to 63 letters, digits, '.', '_' or '-', "
                    + "starting with a letter or digit");
        }
        return id;
    }
}
