# SPDX-License-Identifier: Apache-2.0
# tpm_eventlog.py OUT - write a small crypto-agile TCG PC Client event log (SHA-256 bank only)
# for the swtpm tests, and print "PCR:HEXDIGEST" per measured event (what to extend into the
# TPM so that the log replays to its PCRs). Events: a POST code on PCR 0, a GRUB kernel
# command line on PCR 8 (EV_IPL, digest over the text after "kernel_cmdline: "), separators
# on PCRs 0-7.
import hashlib
import struct
import sys


def event2(pcr, etype, digest, data):
    return (struct.pack("<III", pcr, etype, 1) + struct.pack("<H", 0x000B) + digest +
            struct.pack("<I", len(data)) + data)


def main():
    spec = (b"Spec ID Event03\0" + struct.pack("<IBBBB", 0, 0, 2, 0, 2) +
            struct.pack("<I", 1) + struct.pack("<HH", 0x000B, 32) + b"\0")
    out = struct.pack("<II", 0, 3) + b"\0" * 20 + struct.pack("<I", len(spec)) + spec
    measured = []
    post = b"veritee swtpm firmware"
    events = [(0, 0x1, hashlib.sha256(post).digest(), post)]
    cmd = b"console=ttyS0 veritee.test=1"
    events.append((8, 0xD, hashlib.sha256(cmd).digest(), b"kernel_cmdline: " + cmd + b"\0"))
    for pcr in range(8):
        sep = b"\0\0\0\0"
        events.append((pcr, 0x4, hashlib.sha256(sep).digest(), sep))
    for pcr, etype, d, data in events:
        out += event2(pcr, etype, d, data)
        measured.append("%d:%s" % (pcr, d.hex()))
    with open(sys.argv[1], "wb") as f:
        f.write(out)
    print("\n".join(measured))


main()
