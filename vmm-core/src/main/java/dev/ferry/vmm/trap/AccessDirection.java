package dev.ferry.vmm.trap;

public enum AccessDirection {
    READ,
    WRITE
}
