package dev.ferry.cli;

import dev.ferry.vmm.Hypervisor;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Runs the test only where KVM is usable; elsewhere it is skipped with Ferry's reason. */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RequiresKvmHere.Condition.class)
@interface RequiresKvmHere {
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return Hypervisor.isAvailable()
                    ? ConditionEvaluationResult.enabled("KVM is available")
                    : ConditionEvaluationResult.disabled(Hypervisor.unavailabilityCause());
        }
    }
}
