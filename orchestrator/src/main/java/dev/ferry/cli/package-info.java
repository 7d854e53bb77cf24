/**
 * The {@code ferry} command line: one class per subcommand, shared exit codes in {@link dev.ferry.cli.FerryCli}.
 * Commands that need KVM check {@link dev.ferry.vmm.Hypervisor#isAvailable()} first and say why not.
 */
package dev.ferry.cli;
