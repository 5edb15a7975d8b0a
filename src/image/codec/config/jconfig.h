/* libjpeg-turbo 2.1.5 configuration for the wasm32 decoder (jconfig.h.in, filled in by hand). */
#define JPEG_LIB_VERSION  62
#define LIBJPEG_TURBO_VERSION  2.1.5
#define LIBJPEG_TURBO_VERSION_NUMBER  2001005
#define MEM_SRCDST_SUPPORTED  1
#define BITS_IN_JSAMPLE  8
