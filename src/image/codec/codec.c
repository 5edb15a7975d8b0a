/*
 * Bounded, shrink-on-load decoding of JPEG (libjpeg-turbo) and PNG (libspng + zlib) straight to a
 * small grey map: every decoded row is composited over a background, turned into Rec. 601 luma and
 * box-summed into a grid `factor` times smaller, so no full-size image is ever held in memory.
 *
 * One image at a time: codec_open() reads the header with the decoder itself (the only source of
 * truth for the size), codec_decode() decodes into the grid, codec_close() frees everything.
 * Figures for the caller (sizes, work done, EXIF location) are in `info`, read through codec_info().
 *
 * libjpeg reports fatal errors through error_exit, which must not return: it calls the host's
 * codec_abort(), which throws, unwinding the wasm stack; the host then discards this instance.
 *
 * Shapes: w×h is the size the decoder outputs (after JPEG DCT scaling), the grid is
 * ceil(w/factor)×ceil(h/factor) float32 values 0…255, row-major.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jerror.h"
#include "jpeglib.h"
#include "spng.h"
#include "zlib.h"

/** Throws in the host; never returns. `code` is one of ABORT_*, `detail` a decoder's own code. */
__attribute__((import_module("env"), import_name("codec_abort"), noreturn)) void
codec_abort(int code, int detail);

enum { FORMAT_JPEG = 1, FORMAT_PNG = 2 };
enum {
  ABORT_CORRUPT = 1,     /* libjpeg's error or a corrupt-data warning */
  ABORT_SCAN_LIMIT = 2,  /* more scans than allowed */
  ABORT_TRUNCATED = 3,   /* the data ends early */
  ABORT_MEMORY = 4,      /* over max_memory_to_use */
  ABORT_UNSUPPORTED = 5, /* valid, but a feature not built in (arithmetic coding) */
  ABORT_SCAN_WORK = 6    /* scans costing more work than allowed */
};
/** codec_open / codec_decode results besides 0 (ok) and libspng's own codes (-2…-1, 1…). */
enum { ERR_STATE = -100, ERR_NO_MEMORY = -101, ERR_ARGUMENT = -102, ERR_OVERRUN = -103 };

/** What the host reads back; kept as 32-bit fields so it is a plain Uint32Array there. */
static struct {
  uint32_t width, height;         /* as the header declares */
  uint32_t components;            /* JPEG: colour components; PNG: channels */
  uint32_t multiscan;             /* JPEG: progressive or multi-scan (whole coefficient buffer) */
  uint32_t colour;                /* JPEG: J_COLOR_SPACE; PNG: colour type */
  uint32_t bit_depth;             /* PNG */
  uint32_t interlaced;            /* PNG Adam7 */
  uint32_t exif_ptr, exif_len;    /* the EXIF block (TIFF header on), 0 when none */
  uint32_t out_width, out_height; /* what the decoder produced (JPEG after scaling) */
  uint32_t grid_width, grid_height;
  uint32_t grid_ptr;              /* float32 [grid_height, grid_width] */
  uint32_t scans;                 /* JPEG scans read */
  uint32_t rows;                  /* rows decoded (all passes for Adam7) */
  uint32_t inflated_lo, inflated_hi; /* PNG: filtered bytes inflated, scanline filter bytes included */
  uint32_t sampling_blocks;       /* JPEG: 8×8 blocks per scan over all components */
  uint32_t scans_declared;        /* JPEG: SOS markers in the file, found by a walk before decoding */
  uint32_t scan_work;             /* JPEG: what those scans cost (scan_work_of), saturating */
  uint32_t scan_work_read;        /* JPEG: what the scans libjpeg read cost, the same way */
  uint32_t png_path;              /* PNG: PNG_STORED, PNG_UNPACKED or PNG_EXPANDED (png_open) */
} info;

static int format;
static struct jpeg_decompress_struct jpeg;
static struct jpeg_error_mgr jpeg_errors;
static struct jpeg_progress_mgr jpeg_progress;
static struct jpeg_source_mgr jpeg_source;
static uint32_t scan_limit, scan_work_limit;
static spng_ctx *png;

uint32_t codec_info(void) { return (uint32_t)(uintptr_t)&info; }
void *codec_malloc(size_t size) { return malloc(size); }
void codec_free(void *pointer) { free(pointer); }

/* ---- The grid: box sums of luma over a background ---- */

static double *sums;
static float *grid;
/**
 * Opaque grey rows (the common case: scans, drawings, grey JPEG output) are summed per cell in 32-bit
 * integers and added to `sums` once per grid row: 255 · factor² fits below 2^32 up to a factor of 4096.
 */
static uint32_t *grey_sums;
static int32_t grey_row = -1;
#define GREY_MAX_FACTOR 4096u
/** A grid far larger than the host ever asks for (112 × 112) is a misuse. */
#define MAX_GRID_CELLS (1u << 20)
static uint32_t factor;
/** The background in thousandths of a level: 0 (black) or 255000 (white). */
static uint32_t background_1000;

/** Rec. 601 luma in thousandths of a level, so a weighted sum stays an exact integer. */
#define LUMA_1000(r, g, b) (299u * (r) + 587u * (g) + 114u * (b))

static int grid_start(uint32_t width, uint32_t height, uint32_t box, uint32_t background) {
  info.out_width = width;
  info.out_height = height;
  factor = box;
  background_1000 = background * 1000u;
  info.grid_width = (width + box - 1) / box;
  info.grid_height = (height + box - 1) / box;
  /* The host keeps the grid at most 112 a side; refuse anything that could wrap 32-bit sizes. */
  uint64_t cells64 = (uint64_t)info.grid_width * info.grid_height;
  if (cells64 > MAX_GRID_CELLS) return ERR_ARGUMENT;
  size_t cells = (size_t)cells64;
  sums = calloc(cells, sizeof(double));
  grid = malloc(cells * sizeof(float));
  grey_sums = calloc(info.grid_width, sizeof(uint32_t));
  grey_row = -1;
  if (!sums || !grid || !grey_sums) return ERR_NO_MEMORY;
  info.grid_ptr = (uint32_t)(uintptr_t)grid;
  return 0;
}

/** Moves the integer sums of the grey grid row being summed into `sums`. */
static void flush_grey_row(void) {
  if (grey_row < 0) return;
  double *cells = sums + (size_t)grey_row * info.grid_width;
  for (uint32_t c = 0; c < info.grid_width; c++) {
    cells[c] += 255000.0 * grey_sums[c];
    grey_sums[c] = 0;
  }
  grey_row = -1;
}

/** The value one pixel adds to its cell: luma·alpha + background·(255 − alpha), in thousandths. */
static inline uint32_t pixel_value(const uint8_t *p, uint32_t channels) {
  switch (channels) {
    case 1: return 255000u * p[0];
    case 2: return 1000u * p[0] * p[1] + background_1000 * (255u - p[1]);
    case 3: return 255u * LUMA_1000(p[0], p[1], p[2]);
    default: return LUMA_1000(p[0], p[1], p[2]) * p[3] + background_1000 * (255u - p[3]);
  }
}

/**
 * Adds one decoded row's pixels at x = x0, x0 + dx, … of row y; `channels` 1 (G), 2 (GA), 3 (RGB) or
 * 4 (RGBA), 8 bits each. A whole row (dx = 1) is summed a cell at a time in integers, opaque grey and
 * RGB as plain channel sums; Adam7's sparse rows pixel by pixel.
 */
static void grid_add_row(const uint8_t *row, uint32_t count, uint32_t channels, uint32_t y,
                         uint32_t x0, uint32_t dx) {
  double *cells = sums + (size_t)(y / factor) * info.grid_width;
  info.rows++;
  if (dx != 1) {
    for (uint32_t i = 0, x = x0; i < count; i++, x += dx) {
      cells[x / factor] += pixel_value(row + (size_t)i * channels, channels);
    }
    return;
  }
  if (channels == 1 && factor <= GREY_MAX_FACTOR) {
    int32_t here = (int32_t)(y / factor);
    if (here != grey_row) {
      flush_grey_row();
      grey_row = here;
    }
    for (uint32_t start = 0, cell = 0; start < count; start += factor, cell++) {
      uint32_t end = start + factor < count ? start + factor : count, grey = 0;
      for (uint32_t i = start; i < end; i++) grey += row[i];
      grey_sums[cell] += grey;
    }
    return;
  }
  /* One loop per layout, so the per-pixel work has no branches (narrow images have tiny cells). */
  for (uint32_t start = 0, cell = 0; start < count; start += factor, cell++) {
    uint32_t end = start + factor < count ? start + factor : count;
    const uint8_t *p = row + (size_t)start * channels, *stop = row + (size_t)end * channels;
    uint64_t sum = 0;
    switch (channels) {
      case 1: {
        uint32_t grey = 0;
        for (; p < stop; p++) grey += p[0];
        sum = 255000ull * grey;
        break;
      }
      case 3: {
        uint32_t r = 0, g = 0, b = 0;
        for (; p < stop; p += 3) r += p[0], g += p[1], b += p[2];
        sum = 255ull * (299ull * r + 587ull * g + 114ull * b);
        break;
      }
      case 4: {
        /* Opaque cells (most of a screenshot) need only the channel sums, like RGB. */
        uint32_t r = 0, g = 0, b = 0, opaque = 255;
        for (const uint8_t *q = p; q < stop; q += 4) r += q[0], g += q[1], b += q[2], opaque &= q[3];
        if (opaque == 255) {
          sum = 255ull * (299ull * r + 587ull * g + 114ull * b);
        } else {
          for (; p < stop; p += 4) sum += pixel_value(p, 4);
        }
        break;
      }
      default:
        for (; p < stop; p += channels) sum += pixel_value(p, channels);
    }
    cells[cell] += (double)sum;
  }
}

/** Means per cell, 0…255; edge cells average the pixels they hold. */
static void grid_finish(void) {
  flush_grey_row();
  uint32_t gw = info.grid_width, gh = info.grid_height;
  for (uint32_t gy = 0; gy < gh; gy++) {
    uint32_t rows = gy + 1 < gh ? factor : info.out_height - gy * factor;
    for (uint32_t gx = 0; gx < gw; gx++) {
      uint32_t cols = gx + 1 < gw ? factor : info.out_width - gx * factor;
      size_t i = (size_t)gy * gw + gx;
      grid[i] = (float)(sums[i] / ((double)rows * cols * 255000.0));
    }
  }
  free(sums);
  free(grey_sums);
  sums = NULL;
  grey_sums = NULL;
}

/* ---- JPEG ---- */

static void jpeg_fail(j_common_ptr cinfo) {
  int code = cinfo->err->msg_code;
  if (code == JERR_OUT_OF_MEMORY || code == JERR_NO_BACKING_STORE) codec_abort(ABORT_MEMORY, code);
  if (code == JERR_NOT_COMPILED || code == JERR_CONVERSION_NOTIMPL) codec_abort(ABORT_UNSUPPORTED, code);
  codec_abort(ABORT_CORRUPT, code);
}

/**
 * Warnings that mean the data is corrupt end the decode at once: libjpeg would go on filling the
 * rest of the image with grey, a cost the file never paid for. Harmless ones are ignored.
 */
static void jpeg_warn(j_common_ptr cinfo, int level) {
  if (level >= 0) return; /* trace messages */
  switch (cinfo->err->msg_code) {
    case JWRN_EXTRANEOUS_DATA:    /* stray bytes before a marker: cameras write them */
    case JWRN_ADOBE_XFORM:        /* unknown Adobe transform: treated as the default */
    case JWRN_BOGUS_PROGRESSION:  /* out-of-order refinement scans: still decodable */
    case JWRN_JFIF_MAJOR:         /* a newer JFIF version */
    case JWRN_JPEG_EOF:           /* reported after our source has already refused */
    case JWRN_BOGUS_ICC:
      return;
    default:
      codec_abort(ABORT_CORRUPT, cinfo->err->msg_code);
  }
}

/*
 * What a scan costs, in the host's units of decoding work (about 0.5 ns each): every block of its
 * components is visited (SCAN_BLOCK_WORK, an EOB run included), and a refinement pass (Ah > 0) also
 * revisits each coefficient of its band in every block, data or not (REFINE_COEF_WORK each).
 * Measured: an empty first scan 18 ns a block, an empty 1–63 refinement 87 ns a block.
 */
#define SCAN_BLOCK_WORK 36u
#define REFINE_COEF_WORK 2u

static uint64_t component_scan_work(const jpeg_component_info *c, int ss, int se, int ah) {
  uint64_t blocks = (uint64_t)c->width_in_blocks * c->height_in_blocks;
  uint64_t band = se >= ss ? (uint64_t)(se - ss + 1) : 1;
  return blocks * (SCAN_BLOCK_WORK + (ah ? REFINE_COEF_WORK * band : 0));
}

static uint32_t saturate(uint64_t value) { return value > UINT32_MAX ? UINT32_MAX : (uint32_t)value; }

/**
 * libjpeg-turbo's scan limit (TJPARAM_SCANLIMIT), by count and by work: called before each scan's
 * data is read (and once per row), it prices each new scan from its SOS as the walk in jpeg_open did
 * and stops at a scan beyond the count or the work the host accepted, before decoding it.
 */
static void jpeg_check_progress(j_common_ptr cinfo) {
  j_decompress_ptr d = (j_decompress_ptr)cinfo;
  uint32_t number = (uint32_t)d->input_scan_number;
  if (number <= info.scans) return;
  info.scans = number;
  if (number > scan_limit) codec_abort(ABORT_SCAN_LIMIT, (int)scan_limit);
  uint64_t work = info.scan_work_read;
  for (int i = 0; i < d->comps_in_scan; i++) {
    work += component_scan_work(d->cur_comp_info[i], d->Ss, d->Se, d->Ah);
  }
  info.scan_work_read = saturate(work);
  if (work > scan_work_limit) codec_abort(ABORT_SCAN_WORK, (int)number);
}

/** The frame's component whose id an SOS names, or NULL. */
static const jpeg_component_info *component_by_id(int id) {
  for (int c = 0; c < jpeg.num_components; c++) {
    if (jpeg.comp_info[c].component_id == id) return &jpeg.comp_info[c];
  }
  return NULL;
}

/**
 * Counts and prices every scan before any is decoded: from the first scan's data (libjpeg has read
 * its SOS), entropy-coded bytes are skipped (an FF is data when 00, a restart marker or fill follows)
 * and marker segments by their length; each SOS is priced with component_scan_work. A file this walk
 * misreads cannot gain from it: jpeg_check_progress holds libjpeg to the count and work found here.
 */
static void jpeg_walk_scans(const uint8_t *at, const uint8_t *end) {
  uint64_t work = 0;
  for (int i = 0; i < jpeg.comps_in_scan; i++) {
    work += component_scan_work(jpeg.cur_comp_info[i], jpeg.Ss, jpeg.Se, jpeg.Ah);
  }
  uint32_t scans = 1;
  while (at + 1 < end) {
    if (at[0] != 0xFF) {
      const uint8_t *ff = memchr(at, 0xFF, (size_t)(end - at));
      at = ff ? ff : end;
      continue;
    }
    uint8_t marker = at[1];
    if (marker == 0x00 || marker == 0xFF || (marker >= 0xD0 && marker <= 0xD7)) {
      at += marker == 0xFF ? 1 : 2;
      continue;
    }
    if (marker == 0xD9) break; /* EOI */
    if (marker == 0x01) {      /* TEM: no length */
      at += 2;
      continue;
    }
    if (at + 4 > end) break;
    size_t length = (size_t)at[2] << 8 | at[3];
    const uint8_t *body = at + 4, *next = at + 2 + length;
    if (length < 2 || next > end) break;
    if (marker == 0xDA && length >= 6) {
      uint32_t count = body[0];
      if (length < 6 + 2 * count) break;
      const uint8_t *tail = body + 1 + 2 * count;
      int ss = tail[0], se = tail[1], ah = tail[2] >> 4;
      for (uint32_t i = 0; i < count; i++) {
        const jpeg_component_info *c = component_by_id(body[1 + 2 * i]);
        if (c) work += component_scan_work(c, ss, se, ah);
      }
      scans++;
    }
    at = next;
  }
  info.scans_declared = scans;
  info.scan_work = saturate(work);
}

static void source_init(j_decompress_ptr cinfo) { (void)cinfo; }

/** The whole file is in memory from the start: asking for more means it was cut short. */
static boolean source_fill(j_decompress_ptr cinfo) {
  (void)cinfo;
  codec_abort(ABORT_TRUNCATED, 0);
}

static void source_skip(j_decompress_ptr cinfo, long count) {
  struct jpeg_source_mgr *src = cinfo->src;
  if (count <= 0) return;
  if ((size_t)count > src->bytes_in_buffer) codec_abort(ABORT_TRUNCATED, 0);
  src->next_input_byte += count;
  src->bytes_in_buffer -= (size_t)count;
}

static void source_term(j_decompress_ptr cinfo) { (void)cinfo; }

/** The first APP1 marker that holds EXIF ("Exif\0\0", then the TIFF header). */
static void jpeg_find_exif(void) {
  for (jpeg_saved_marker_ptr m = jpeg.marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length > 14 && memcmp(m->data, "Exif\0\0", 6) == 0) {
      info.exif_ptr = (uint32_t)(uintptr_t)(m->data + 6);
      info.exif_len = m->data_length - 6;
      return;
    }
  }
}

static int jpeg_open(const uint8_t *data, size_t size, uint32_t memory_limit) {
  jpeg.err = jpeg_std_error(&jpeg_errors);
  jpeg_errors.error_exit = jpeg_fail;
  jpeg_errors.emit_message = jpeg_warn;
  jpeg_create_decompress(&jpeg);
  jpeg.mem->max_memory_to_use = memory_limit; /* with no backing store, more is an error */
  jpeg_source.init_source = source_init;
  jpeg_source.fill_input_buffer = source_fill;
  jpeg_source.skip_input_data = source_skip;
  jpeg_source.resync_to_restart = jpeg_resync_to_restart;
  jpeg_source.term_source = source_term;
  jpeg_source.next_input_byte = data;
  jpeg_source.bytes_in_buffer = size;
  jpeg.src = &jpeg_source;
  jpeg_save_markers(&jpeg, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(&jpeg, TRUE);
  info.width = jpeg.image_width;
  info.height = jpeg.image_height;
  info.components = (uint32_t)jpeg.num_components;
  info.multiscan = jpeg_has_multiple_scans(&jpeg) ? 1 : 0;
  info.colour = jpeg.jpeg_color_space;
  uint32_t blocks = 0;
  for (int c = 0; c < jpeg.num_components; c++) {
    jpeg_component_info *comp = &jpeg.comp_info[c];
    blocks += comp->width_in_blocks * comp->height_in_blocks;
  }
  info.sampling_blocks = blocks;
  jpeg_walk_scans(jpeg_source.next_input_byte, jpeg_source.next_input_byte + jpeg_source.bytes_in_buffer);
  jpeg_find_exif();
  return 0;
}

/** Grey for YCbCr, grey and RGB files (libjpeg skips the chroma work); CMYK/YCCK come out as CMYK. */
static int jpeg_decode(uint32_t scale_num, uint32_t box, uint32_t background, uint32_t scans,
                       uint32_t scan_work) {
  int cmyk = jpeg.jpeg_color_space == JCS_CMYK || jpeg.jpeg_color_space == JCS_YCCK;
  jpeg.out_color_space = cmyk ? JCS_CMYK : JCS_GRAYSCALE;
  jpeg.scale_num = scale_num;
  jpeg.scale_denom = 8;
  jpeg.dct_method = JDCT_ISLOW;
  jpeg.do_fancy_upsampling = FALSE;
  scan_limit = scans;
  scan_work_limit = scan_work;
  jpeg_progress.progress_monitor = jpeg_check_progress;
  jpeg.progress = &jpeg_progress;
  jpeg_start_decompress(&jpeg);
  jpeg_check_progress((j_common_ptr)&jpeg); /* a single-scan file's one scan, read from here on */
  int status = grid_start(jpeg.output_width, jpeg.output_height, box, background);
  if (status) return status;
  uint32_t width = jpeg.output_width;
  JSAMPLE *row = malloc((size_t)width * (cmyk ? 4 : 1));
  uint8_t *rgba = cmyk ? malloc((size_t)width * 4) : NULL;
  if (!row || (cmyk && !rgba)) {
    free(row);
    free(rgba);
    return ERR_NO_MEMORY;
  }
  /* Adobe's CMYK JPEGs (the usual kind) store the inks inverted. */
  int inverted = jpeg.saw_Adobe_marker;
  while (jpeg.output_scanline < jpeg.output_height) {
    uint32_t y = jpeg.output_scanline;
    JSAMPROW rows[1] = {row};
    jpeg_read_scanlines(&jpeg, rows, 1);
    if (!cmyk) {
      grid_add_row(row, width, 1, y, 0, 1);
      continue;
    }
    for (uint32_t x = 0; x < width; x++) {
      const uint8_t *p = row + 4 * x;
      uint32_t c = p[0], m = p[1], ye = p[2], k = p[3];
      if (!inverted) c = 255 - c, m = 255 - m, ye = 255 - ye, k = 255 - k;
      rgba[4 * x] = (uint8_t)((c * k + 127) / 255);
      rgba[4 * x + 1] = (uint8_t)((m * k + 127) / 255);
      rgba[4 * x + 2] = (uint8_t)((ye * k + 127) / 255);
      rgba[4 * x + 3] = 255;
    }
    grid_add_row(rgba, width, 4, y, 0, 1);
  }
  free(row);
  free(rgba);
  grid_finish();
  return 0;
}

/* ---- PNG ---- */

/**
 * How a PNG's rows reach the grid, decided in png_open so the host prices the decode by it:
 * 8-bit grey, grey+alpha, RGB and RGBA as stored (libspng only unfilters them); grey below 8 bits
 * unpacked to G8 (GA8 with tRNS); palette, 16-bit and keyed RGB expanded to RGBA8.
 */
enum { PNG_STORED = 0, PNG_UNPACKED = 1, PNG_EXPANDED = 2 };
static int png_fmt, png_has_trns;
static uint32_t png_channels;

static void png_choose_path(void) {
  struct spng_trns trns;
  /* tRNS comes before the image data: this reads the chunks up to it, within the chunk limits. */
  png_has_trns = spng_get_trns(png, &trns) == 0;
  if (info.bit_depth == 8 && info.colour != SPNG_COLOR_TYPE_INDEXED && !png_has_trns) {
    info.png_path = PNG_STORED;
    png_fmt = SPNG_FMT_PNG;
    png_channels = info.components;
  } else if (info.colour == SPNG_COLOR_TYPE_GRAYSCALE && info.bit_depth <= 8) {
    info.png_path = PNG_UNPACKED;
    png_fmt = png_has_trns ? SPNG_FMT_GA8 : SPNG_FMT_G8;
    png_channels = png_has_trns ? 2 : 1;
  } else {
    info.png_path = PNG_EXPANDED;
    png_fmt = SPNG_FMT_RGBA8;
    png_channels = 4;
  }
}

static int png_open(const uint8_t *data, size_t size, uint32_t max_side) {
  /* Chunk CRCs are checked; zlib's Adler-32 over the image data is not, as browsers do. */
  png = spng_ctx_new(SPNG_CTX_IGNORE_ADLER32);
  if (!png) return ERR_NO_MEMORY;
  int status;
  /* Critical chunks must be intact; a damaged ancillary chunk is dropped, as libpng does. */
  if ((status = spng_set_crc_action(png, SPNG_CRC_ERROR, SPNG_CRC_DISCARD))) return status;
  if ((status = spng_set_image_limits(png, max_side, max_side))) return status;
  /* Metadata (text, ICC profiles) is nothing we read: 1 MiB of it inflated and cached at most. */
  if ((status = spng_set_chunk_limits(png, 1u << 20, 1u << 20))) return status;
  if ((status = spng_set_png_buffer(png, data, size))) return status;
  struct spng_ihdr ihdr;
  if ((status = spng_get_ihdr(png, &ihdr))) return status;
  info.width = ihdr.width;
  info.height = ihdr.height;
  info.bit_depth = ihdr.bit_depth;
  info.colour = ihdr.color_type;
  info.interlaced = ihdr.interlace_method;
  static const uint8_t channels[7] = {1, 0, 3, 1, 2, 0, 4};
  info.components = ihdr.color_type <= 6 ? channels[ihdr.color_type] : 0;
  png_choose_path();
  return 0;
}

static void add_inflated(uint64_t bytes) {
  uint64_t total = ((uint64_t)info.inflated_hi << 32 | info.inflated_lo) + bytes;
  info.inflated_lo = (uint32_t)total;
  info.inflated_hi = (uint32_t)(total >> 32);
}

/** Adam7 passes: first column and column step. */
static const uint8_t ADAM7_X0[7] = {0, 4, 0, 2, 0, 1, 0};
static const uint8_t ADAM7_DX[7] = {8, 8, 4, 4, 2, 2, 1};

static int png_decode(uint32_t box, uint32_t background) {
  int fmt = png_fmt, flags = SPNG_DECODE_PROGRESSIVE;
  uint32_t channels = png_channels;
  if (info.png_path != PNG_STORED) flags |= SPNG_DECODE_TRNS;
  int status = spng_decode_image(png, NULL, 0, fmt, flags);
  if (status) return status;
  if ((status = grid_start(info.width, info.height, box, background))) return status;
  uint8_t *row = malloc((size_t)info.width * channels);
  if (!row) return ERR_NO_MEMORY;
  uint32_t bits_per_pixel = info.bit_depth * info.components;
  for (;;) {
    struct spng_row_info where;
    if ((status = spng_get_row_info(png, &where))) break;
    uint32_t pass = info.interlaced ? where.pass : 0;
    uint32_t x0 = info.interlaced ? ADAM7_X0[pass] : 0;
    uint32_t dx = info.interlaced ? ADAM7_DX[pass] : 1;
    uint32_t count = (info.width - x0 + dx - 1) / dx;
    status = spng_decode_scanline(png, row, (size_t)count * channels);
    if (status && status != SPNG_EOI) break;
    add_inflated(1 + ((uint64_t)count * bits_per_pixel + 7) / 8);
    grid_add_row(row, count, channels, where.row_num, x0, dx);
    if (status == SPNG_EOI) {
      status = 0;
      break;
    }
  }
  free(row);
  if (status) return status;
  /* Image data that inflates past what the header allows is a decompression bomb's payload. */
  if (spng_image_data_overruns(png)) return ERR_OVERRUN;
  /*
   * Chunks after the image data may hold EXIF; a failure there leaves the image as decoded, except a
   * bad CRC: the last IDAT's own CRC is only checked here, and with Adler-32 ignored it is all that
   * vouches for the image data.
   */
  if (spng_decode_chunks(png) == SPNG_ECHUNK_CRC) return SPNG_ECHUNK_CRC;
  struct spng_exif exif;
  if (spng_get_exif(png, &exif) == 0 && exif.length > 8) {
    info.exif_ptr = (uint32_t)(uintptr_t)exif.data;
    info.exif_len = exif.length;
  }
  grid_finish();
  return 0;
}

/** libspng frees a deflate stream only in encoders, which this module never makes (no deflate linked). */
int deflateEnd(z_streamp stream) {
  (void)stream;
  return Z_STREAM_ERROR;
}

/* ---- The host's entry points ---- */

/**
 * Reads the header of the file at data[0, size) with the decoder that will decode it.
 * `limit`: JPEG, the most bytes libjpeg may allocate; PNG, the longest side accepted.
 * Returns 0, or libspng's error code (JPEG errors abort).
 */
int codec_open(int kind, const uint8_t *data, size_t size, uint32_t limit) {
  if (format) return ERR_STATE;
  memset(&info, 0, sizeof info);
  format = kind;
  if (kind == FORMAT_JPEG) return jpeg_open(data, size, limit);
  if (kind == FORMAT_PNG) return png_open(data, size, limit);
  format = 0;
  return ERR_ARGUMENT;
}

/**
 * Decodes the open image into the grid. `scale_num`: JPEG DCT scaling in eighths (1–8);
 * `box`: the grid's factor; `background`: 0 or 255, what transparency is composited over;
 * `scans`: the most JPEG scans read; `scan_work`: the most work they may cost (jpeg_check_progress).
 */
int codec_decode(uint32_t scale_num, uint32_t box, uint32_t background, uint32_t scans,
                 uint32_t scan_work) {
  if (box == 0 || scale_num == 0 || scale_num > 8) return ERR_ARGUMENT;
  if (format == FORMAT_JPEG) return jpeg_decode(scale_num, box, background, scans, scan_work);
  if (format == FORMAT_PNG) return png_decode(box, background);
  return ERR_STATE;
}

/** Frees the decoder's state and the grid; the host has copied what it needs. */
void codec_close(void) {
  if (format == FORMAT_JPEG) jpeg_destroy_decompress(&jpeg);
  if (format == FORMAT_PNG) spng_ctx_free(png);
  png = NULL;
  free(sums);
  free(grid);
  free(grey_sums);
  sums = NULL;
  grid = NULL;
  grey_sums = NULL;
  format = 0;
}

/** libspng's message for one of its error codes. */
const char *codec_png_error(int code) { return spng_strerror(code); }

/** libjpeg's message for the last error or warning. */
const char *codec_jpeg_message(void) {
  static char message[JMSG_LENGTH_MAX];
  jpeg_errors.format_message((j_common_ptr)&jpeg, message);
  return message;
}
