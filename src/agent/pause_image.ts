// The sandbox ("pause") image, built by tkube itself so no registry is needed: on x86-64 a
// 264-byte static ELF written here byte by byte; elsewhere busybox's sh waiting under a trap.
// Either one sleeps forever, exits 0 on SIGTERM/SIGINT, and lets the kernel reap orphans.
import { buildOciArchive, type OciArchive } from './oci_image.ts';
import { busyboxPauseFiles } from './busybox_image.ts';

/** The sandbox image name; containerd's sandbox_image must match it. */
export const PAUSE_IMAGE = 'tkube.local/pause:3.10';

/** Which pause program to put in the image. */
export type PauseVariant = 'elf' | 'busybox';

/** Options of buildPauseImage. */
export interface PauseImageOptions {
  readonly name?: string;
  /** Default: 'elf' on x86-64, 'busybox' elsewhere. */
  readonly variant?: PauseVariant;
  /** busybox binary for the busybox variant. */
  readonly busybox?: string;
}

const LOAD_ADDRESS = 0x400000;
const CODE_OFFSET = 0x78; // right after the ELF header (64) and one program header (56)

// x86-64 machine code at CODE_OFFSET (assembled from this source, Intel syntax):
//   _start:  lea rsi,[rip+act_exit]; mov edi,15; call sigact      ; SIGTERM -> on_signal
//            mov edi,2; call sigact                                ; SIGINT  -> on_signal
//            lea rsi,[rip+act_ign]; mov edi,17; call sigact        ; SIGCHLD -> SIG_IGN: kernel reaps
//   1:       mov eax,34; syscall; jmp 1b                           ; pause() forever
//   sigact:  xor edx,edx; mov r10d,8; mov eax,13; syscall; ret     ; rt_sigaction(edi, rsi, 0, 8)
//   on_signal: xor edi,edi; mov eax,231; syscall                   ; exit_group(0)
//   (2 bytes of padding, then act_exit at 0x50 and act_ign at 0x70: struct kernel_sigaction)
const CODE_HEX =
  '488d3549000000' + 'bf0f000000' + 'e824000000' + 'bf02000000' + 'e81a000000' +
  '488d354e000000' + 'bf11000000' + 'e809000000' + 'b822000000' + '0f05' + 'ebf7' +
  '31d2' + '41ba08000000' + 'b80d000000' + '0f05' + 'c3' +
  '31ff' + 'b8e7000000' + '0f05' + '6690';
const ON_SIGNAL_OFFSET = 0x45; // on_signal, relative to CODE_OFFSET
const SA_RESTORER = 0x04000000;
const SIG_IGN = 1;

/** The x86-64 pause program as a static ELF executable. */
export function pauseElf(): Buffer {
  const code = Buffer.from(CODE_HEX, 'hex');
  if (code.length !== 0x50) throw new Error('pause ELF: code size changed; fix the act_* offsets');
  const onSignal = BigInt(LOAD_ADDRESS + CODE_OFFSET + ON_SIGNAL_OFFSET);
  const acts = Buffer.alloc(64);
  // act_exit = { handler, flags, restorer, mask }: the handler never returns, but x86-64 insists on a restorer
  acts.writeBigUInt64LE(onSignal, 0);
  acts.writeBigUInt64LE(BigInt(SA_RESTORER), 8);
  acts.writeBigUInt64LE(onSignal, 16);
  acts.writeBigUInt64LE(BigInt(SIG_IGN), 32); // act_ign = { SIG_IGN, 0, 0, 0 }
  const body = Buffer.concat([code, acts]);
  const total = CODE_OFFSET + body.length;

  const elf = Buffer.alloc(total);
  elf.write('\x7fELF', 0, 'latin1');
  elf[4] = 2; // 64-bit
  elf[5] = 1; // little endian
  elf[6] = 1; // ELF version
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(0x3e, 18); // EM_X86_64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BigInt(LOAD_ADDRESS + CODE_OFFSET), 24); // entry
  elf.writeBigUInt64LE(64n, 32); // program headers right after this header
  elf.writeUInt16LE(64, 52); // header size
  elf.writeUInt16LE(56, 54); // program header size
  elf.writeUInt16LE(1, 56); // one program header
  // PT_LOAD of the whole file, read + execute
  elf.writeUInt32LE(1, 64);
  elf.writeUInt32LE(5, 68);
  elf.writeBigUInt64LE(0n, 72);
  elf.writeBigUInt64LE(BigInt(LOAD_ADDRESS), 80);
  elf.writeBigUInt64LE(BigInt(LOAD_ADDRESS), 88);
  elf.writeBigUInt64LE(BigInt(total), 96);
  elf.writeBigUInt64LE(BigInt(total), 104);
  elf.writeBigUInt64LE(0x1000n, 112);
  body.copy(elf, CODE_OFFSET);
  return elf;
}

/** Builds the pause image as an OCI archive. */
export function buildPauseImage(opts: PauseImageOptions = {}): OciArchive {
  const variant = opts.variant ?? (process.arch === 'x64' ? 'elf' : 'busybox');
  const name = opts.name ?? PAUSE_IMAGE;
  if (variant === 'elf') {
    if (process.arch !== 'x64') throw new Error(`the ELF pause program is x86-64 only; this is ${process.arch}`);
    return buildOciArchive({
      name,
      files: [{ name: 'pause', type: 'file', mode: 0o755, data: pauseElf() }],
      entrypoint: ['/pause'],
      env: [],
      architecture: 'amd64',
    });
  }
  return buildOciArchive({
    name,
    files: busyboxPauseFiles(opts.busybox),
    // sh as PID 1 ignores signals it has no trap for; `wait` returns when TERM/INT arrive
    entrypoint: ['/bin/sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 2147483647 & wait $!; done"],
    env: [],
  });
}
