#ifndef STACKSHIP_CZSTD_SHIM_H
#define STACKSHIP_CZSTD_SHIM_H
#include <zstd.h>
#endif
