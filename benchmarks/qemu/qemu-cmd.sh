# Sourced by run-guest.sh and migrate.sh: how QEMU/KVM runs a Ferry guest here.
# (A library: not meant to be run.)

ferry_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# ferry_image NAME|PATH: prints the Multiboot image of a guest, or fails saying why.
ferry_image() {
    local image
    case $1 in
        */*|*.elf) image=$1 ;;
        *) image=$ferry_root/guests/build/out/$1.mb.elf ;;
    esac
    if [ ! -f "$image" ]; then
        echo "ferry: no image $image (build the guests with: make -C $ferry_root/guests)" >&2
        return 1
    fi
    printf '%s\n' "$image"
}

# The host's TSC frequency in kHz from the kernel log, or nothing.
ferry_host_tsc_khz() {
    dmesg 2>/dev/null | awk '
        /tsc: Refined TSC clocksource calibration:/ { mhz = $(NF-1) }
        /tsc: Detected .* MHz processor/ && !mhz    { for (i = 1; i < NF; i++) if ($(i+1) == "MHz") det = $i }
        END { v = mhz ? mhz : det; if (v) printf "%d\n", v * 1000 + 0.5 }'
}

# ferry_qemu_cmd IMAGE ARGS: sets the array FERRY_QEMU_CMD to the command line that
# boots IMAGE with the guest arguments ARGS ("k=v k=v"), console on stdio, and the
# EXIT port as isa-debug-exit. Honours QEMU, MEM, BIOS, TSC_KHZ (see run-guest.sh).
ferry_qemu_cmd() {
    local image=$1 args=$2 cpu=host,-arch-capabilities tsc_khz
    local -a firmware=()
    case ${BIOS:-qboot} in
        qboot) firmware=(-bios /usr/share/qemu/qboot.rom) ;;
        seabios) ;;
        *) firmware=(-bios "$BIOS") ;;
    esac
    tsc_khz=${TSC_KHZ:-$(ferry_host_tsc_khz)}
    if [ -n "$tsc_khz" ] && [ "$tsc_khz" != none ]; then
        cpu=$cpu,tsc-frequency=$((tsc_khz * 1000))
    fi
    FERRY_QEMU_CMD=("${QEMU:-qemu-system-x86_64}" -enable-kvm -cpu "$cpu" -m "${MEM:-256M}"
        -nographic -monitor none -serial stdio -no-reboot -vga none -net none
        "${firmware[@]}"
        -device isa-debug-exit,iobase=0x504,iosize=4
        -kernel "$image" -append "$args")
}
