package dev.ferry.capture.spec;

/**
 * One register as data: where it is, how wide, who may read and write it, which selector banks it (DLAB, QueueSel,
 * FeaturesSel; empty when none), how its value can be known, and what touching it does besides.
 */
public record RegisterSpec(String name, long offset, int width, Access access, String bank, Knowledge knowledge,
                           String sideEffects) {
    public static RegisterSpec of(String name, long offset, int width, Access access, Knowledge knowledge) {
        return new RegisterSpec(name, offset, width, access, "", knowledge, "");
    }

    public RegisterSpec banked(String selector) {
        return new RegisterSpec(name, offset, width, access, selector, knowledge, sideEffects);
    }

    public RegisterSpec effects(String text) {
        return new RegisterSpec(name, offset, width, access, bank, knowledge, text);
    }
}
