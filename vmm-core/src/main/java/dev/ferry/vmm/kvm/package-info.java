/**
 * The KVM binding. Package-private: the JNA calls ({@code LibC}), ioctl numbers ({@code Ioctls}) and struct
 * layouts ({@code Layout}), the only places that know them. Public: one handle per kernel file descriptor
 * ({@link dev.ferry.vmm.kvm.KvmSystem}, {@link dev.ferry.vmm.kvm.KvmVm}, {@link dev.ferry.vmm.kvm.KvmVcpu}) whose
 * methods are named after the ioctl they wrap and take and return records; a failed call throws
 * {@link dev.ferry.vmm.kvm.KvmException} naming the ioctl and errno. Depends on nothing else in Ferry.
 */
package dev.ferry.vmm.kvm;
