/* SPDX-License-Identifier: MIT */
/*
 * replay: runs a libFuzzer target as a plain program over every file of a corpus directory,
 * so that `make check` builds each target with the normal compiler and the targets never rot.
 * Usage: replay_<target> DIR. Prints one TAP line per file.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data;
    long n;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
        fclose(f);
        return -1;
    }
    data = malloc((size_t)n + 1);
    if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)n);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    DIR *d;
    struct dirent *e;
    char path[4096];
    int count = 0, failed = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 100;
    }
    d = opendir(argv[1]);
    if (!d) {
        printf("not ok 1 - corpus %s missing\n1..1\n", argv[1]);
        return 1;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", argv[1], e->d_name);
        count++;
        if (run_file(path) < 0) {
            failed++;
            printf("not ok %d - %s unreadable\n", count, e->d_name);
        } else {
            printf("ok %d - %s\n", count, e->d_name);
        }
    }
    closedir(d);
    printf("1..%d\n", count);
    return failed ? 1 : 0;
}
