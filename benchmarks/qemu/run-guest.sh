#!/usr/bin/env bash
# Boots a Ferry guest under QEMU/KVM as a Multiboot kernel and streams its console.
#
#   benchmarks/qemu/run-guest.sh NAME|PATH.mb.elf [k=v ...]
#
# NAME is a guest of guests/src (its image guests/build/out/NAME.mb.elf, built by
# `make -C guests`); the k=v words become the guest's arguments. Exits with the
# guest's exit code (written to the EXIT port, 0x504: QEMU's isa-debug-exit exits
# with (code << 1) | 1, so codes 0..127 come through); 125 when the guest ended
# without writing it (a triple fault: -no-reboot turns the reset into an exit),
# 126 on a KVM emulation failure, 124 when QEMU itself failed.
#
# Environment:
#   QEMU        the binary (qemu-system-x86_64)
#   MEM         guest RAM (256M)
#   BIOS        qboot (default: /usr/share/qemu/qboot.rom, boots in ~0.2 s here) or
#               seabios (QEMU's default firmware; ~6 s here, where firmware code
#               at CPL 0 is emulated, and it prints its banner on the console),
#               or the path of another firmware image
#   TSC_KHZ     the host's TSC frequency in kHz, given to QEMU as tsc-frequency so
#               that it offers CPUID leaf 0x40000010 and the boot stub need not
#               measure it; default: from the kernel log; "none" to leave it out
#               (the stub then measures it against the PIT: within ±0.015 % here)
#   QEMU_ARGS   more QEMU arguments, split on spaces (e.g. "-qmp unix:/tmp/q.sock,server=on,wait=off")
set -u

# shellcheck source=qemu-cmd.sh
. "$(dirname "$0")/qemu-cmd.sh"

if [ $# -lt 1 ]; then
    sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
fi
image=$(ferry_image "$1") || exit 2
shift
ferry_qemu_cmd "$image" "$*"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck disable=SC2206
extra=(${QEMU_ARGS:-})
start=$(date +%s.%N)
"${FERRY_QEMU_CMD[@]}" \
    -pidfile "$tmp/pid" "${extra[@]}" \
    2> >(while IFS= read -r line; do
             printf '%s\n' "$line" >&2
             printf '%s\n' "$line" >>"$tmp/stderr"
             case $line in
                 *"KVM internal error"*)
                     # QEMU stops the VM but keeps running: end it.
                     touch "$tmp/internal"
                     sleep 0.5
                     [ -s "$tmp/pid" ] && kill "$(cat "$tmp/pid")" 2>/dev/null ;;
             esac
         done) &
qpid=$!
trap 'kill "$qpid" 2>/dev/null' INT TERM
wait "$qpid"
status=$?
wait 2>/dev/null # the stderr reader
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')

if [ -e "$tmp/internal" ]; then
    echo "run-guest.sh: KVM could not emulate an instruction at CPL 0; QEMU ended after ${elapsed} s" >&2
    exit 126
fi
if [ "$status" -eq 0 ]; then
    echo "run-guest.sh: the guest shut down without writing the EXIT port (a triple fault?) after ${elapsed} s" >&2
    exit 125
fi
if [ $((status & 1)) -eq 1 ] && ! grep -v 'warning:' "$tmp/stderr" 2>/dev/null | grep -q '^qemu-system'; then
    code=$(((status - 1) / 2))
    echo "run-guest.sh: guest exited with code $code after ${elapsed} s (QEMU, boot included)" >&2
    exit "$code"
fi
echo "run-guest.sh: QEMU failed (status $status)" >&2
exit 124
