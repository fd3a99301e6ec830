/*
 * fuzz.h — shared by the libFuzzer targets of tests/fuzz (make fuzz).
 * Each target is one LLVMFuzzerTestOneInput that hands its bytes to one
 * reader of libfacto; an error status is a correct answer, a crash, a leak,
 * undefined behaviour or a timeout is a finding. Readers that take a path get
 * the bytes through a scratch file of this process (fuzz_file).
 */
#ifndef FACTO_FUZZ_H
#define FACTO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "facto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path_[512];

static inline void fuzz_remove_(void)
{
    if (fuzz_path_[0])
        unlink(fuzz_path_);
}

/* Write data [size] to this process's scratch file for `name` and return its
 * path (static storage; the file is removed at exit). Aborts when the file
 * cannot be written: that is the harness's failure, not the reader's. */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    char *path = fuzz_path_;
    if (!path[0]) {
        /* TMPDIR when set, else /dev/shm (no disk) when there is one */
        const char *dir = getenv("TMPDIR");
        if (!dir || !*dir)
            dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof fuzz_path_, "%s/facto-fuzz-%s-%ld", dir, name, (long)getpid());
        atexit(fuzz_remove_);
    }
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

#endif
