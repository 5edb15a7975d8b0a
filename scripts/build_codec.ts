/**
 * `deno task build:codec [--out FILE]`: compiles src/image/codec/codec.c with libjpeg-turbo 2.1.5,
 * libspng 0.7.3 and zlib 1.2.13 (their sources in src/image/codec/vendor/, from Debian's source
 * packages) into src/image/codec/codec.wasm, which is committed so that the Worker needs no C
 * toolchain. Debian: `apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32`.
 *
 * tests/codec_build_test.ts checks that a fresh build is byte for byte the committed binary.
 */
import { buildMain, compileWasm, exportedFunctions } from "./lib/clang.ts";

const DIR = new URL("../src/image/codec/", import.meta.url).pathname;
const JPEG = [
  "jcomapi",
  "jdapimin",
  "jdapistd",
  "jdcoefct",
  "jdcolor",
  "jddctmgr",
  "jdhuff",
  "jdinput",
  "jdmainct",
  "jdmarker",
  "jdmaster",
  "jdmerge",
  "jdphuff",
  "jdpostct",
  "jdsample",
  "jerror",
  "jidctflt",
  "jidctfst",
  "jidctint",
  "jidctred",
  "jmemmgr",
  "jmemnobs",
  "jquant1",
  "jquant2",
  "jsimd_none",
  "jutils",
];
const ZLIB = ["adler32", "crc32", "inffast", "inflate", "inftrees", "zutil"];
/** Relative to DIR, so the binary does not depend on where the repository lives. */
const SOURCES = [
  "codec.c",
  ...JPEG.map((name) => `vendor/libjpeg-turbo/${name}.c`),
  "vendor/libspng/spng.c",
  ...ZLIB.map((name) => `vendor/zlib/${name}.c`),
];
const EXPORTS = [
  "codec_close",
  "codec_decode",
  "codec_free",
  "codec_info",
  "codec_jpeg_message",
  "codec_malloc",
  "codec_open",
  "codec_png_error",
];
/** The most memory the module may grow to: libjpeg's own limit is 20 MiB, the upload up to 5 MiB. */
const MAX_MEMORY_BYTES = 48 * 1024 * 1024;

/**
 * clang's flags: wasm32-wasi (wasi-libc's malloc and string functions; its stdio is linked but never
 * writes), SIMD and bulk memory for the compiler's own loops, no SIMD code of libjpeg-turbo's (it has
 * none for wasm), a 64-bit Huffman bit buffer (patched jdhuff.h), no getenv, no asserts.
 */
export const CLANG_ARGS = [
  "--target=wasm32-wasi",
  "-mexec-model=reactor",
  "-O2",
  "-msimd128",
  "-mbulk-memory",
  "-ffp-contract=off",
  "-DNDEBUG",
  "-DNO_GETENV",
  "-DNO_PUTENV",
  "-DZ_SOLO",
  "-Iconfig",
  "-Ivendor/libjpeg-turbo",
  "-Ivendor/libspng",
  "-Ivendor/zlib",
  "-w",
  "-Wl,--no-entry",
  ...EXPORTS.map((name) => `-Wl,--export=${name}`),
  "-Wl,-z,stack-size=262144",
  `-Wl,--max-memory=${MAX_MEMORY_BYTES}`,
];

/** Compiles codec.wasm to `out`; throws with clang's message, or with how to install it. */
export async function buildCodec(out: string): Promise<void> {
  await compileWasm(out, {
    args: [...CLANG_ARGS, ...SOURCES],
    cwd: DIR,
    packages: "clang lld wasi-libc libclang-rt-14-dev-wasm32",
    check(module) {
      const names = exportedFunctions(module).filter((name) => name.startsWith("codec_"));
      if (names.join() !== EXPORTS.join()) {
        throw new Error(
          `codec.wasm must export ${EXPORTS.join(", ")}, it exports ${names.join(", ")}`,
        );
      }
    },
  });
}

if (import.meta.main) await buildMain(buildCodec, `${DIR}codec.wasm`);
