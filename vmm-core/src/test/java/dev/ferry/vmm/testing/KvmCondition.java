package dev.ferry.vmm.testing;

import dev.ferry.vmm.Hypervisor;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** The condition behind {@link RequiresKvm}: {@link Hypervisor#isAvailable()}, skipping with its cause. */
public final class KvmCondition implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        return Hypervisor.isAvailable()
                ? ConditionEvaluationResult.enabled("KVM is available")
                : ConditionEvaluationResult.disabled(Hypervisor.unavailabilityCause());
    }
}
