package dev.ferry.capture.restore;

/** Applies restore plans through host register access, in order. */
public final class PlanExecutor {
    private PlanExecutor() {}

    public static void apply(RestorePlan plan, RegisterAccess access) {
        for (RegisterWrite w : plan.writes()) {
            access.write(plan.space(), plan.base() + w.offset(), w.width(), w.value());
        }
    }
}
