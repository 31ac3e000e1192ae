/* SPDX-License-Identifier: MIT */
/* test_backend: URL backend specs (backend.h), table by table: names, URLs, lists. */
#include "orion/backend.h"

#include "../t.h"

#include <string.h>

static const struct {
    const char *in;
    int rc;
    const char *name, *url; /* when rc is 0; else a piece of the error */
} specs[] = {
    {"http://10.0.1.11:11434", 0, "10.0.1.11-11434", "http://10.0.1.11:11434"},
    {"http://gpu-box", 0, "gpu-box-11434", "http://gpu-box"},
    {"http://gpu-box/ollama", 0, "gpu-box-11434", "http://gpu-box/ollama"},
    {"http://gpu:8080/x", 0, "gpu-8080", "http://gpu:8080/x"},
    {"desk=http://10.0.1.20:11434", 0, "desk", "http://10.0.1.20:11434"},
    {"a.b_c-9=http://h:1", 0, "a.b_c-9", "http://h:1"},
    {"http://h:1/?a=b", 0, "h-1", "http://h:1/?a=b"},
    {"https://h:1", -1, NULL, "no TLS"},
    {"ftp://h", -1, NULL, "starts with http://"},
    {"h:11434", -1, NULL, "starts with http://"},
    {"", -1, NULL, "starts with http://"},
    {"http://", -1, NULL, "names no host"},
    {"http://:80", -1, NULL, "names no host"},
    {"http://h x", -1, NULL, "no blanks"},
    {"=http://h", -1, NULL, "1 to 64 bytes"},
    {"my node=http://h", -1, NULL, "only letters"},
    {"n:x=http://h", -1, NULL, "starts with http://"},
    {"x=", -1, NULL, "starts with http://"},
};

static void test_specs(void)
{
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct backend_spec s;
        char err[200] = "";
        int rc = backend_spec_parse(specs[i].in, strlen(specs[i].in), &s, err, sizeof(err));

        is_int(rc, specs[i].rc, "'%s': %d", specs[i].in, specs[i].rc);
        if (rc == 0 && specs[i].rc == 0) {
            is_str(s.name, specs[i].name, "'%s': name", specs[i].in);
            is_str(s.url, specs[i].url, "'%s': url", specs[i].in);
        } else if (rc < 0) {
            ok(strstr(err, specs[i].url) != NULL, "'%s': error says '%s' (%s)", specs[i].in,
               specs[i].url, err);
        }
    }
}

static void test_edges(void)
{
    char name[80], url[300], in[400], err[200];
    struct backend_spec s;

    memset(name, 'n', 64);
    name[64] = '\0';
    snprintf(in, sizeof(in), "%s=http://h", name);
    is_int(backend_spec_parse(in, strlen(in), &s, err, sizeof(err)), 0, "a 64-byte name fits");
    snprintf(in, sizeof(in), "%sn=http://h", name);
    is_int(backend_spec_parse(in, strlen(in), &s, err, sizeof(err)), -1, "65 bytes do not");
    memcpy(url, "http://", 7);
    memset(url + 7, 'h', 248);
    url[255] = '\0';
    snprintf(in, sizeof(in), "x=%s", url);
    is_int(backend_spec_parse(in, strlen(in), &s, err, sizeof(err)), 0, "a 255-byte URL fits");
    snprintf(in, sizeof(in), "x=%sh", url);
    is_int(backend_spec_parse(in, strlen(in), &s, err, sizeof(err)), -1, "256 bytes do not");
    /* a host too long for a name: the URL is fine, the made-up name is refused */
    is_int(backend_spec_parse(url, strlen(url), &s, err, sizeof(err)), 0,
           "a long host gives a shortened name");
    ok(strlen(s.name) <= 64, "that name fits a node id (%zu bytes)", strlen(s.name));
    /* a spec is read only up to len */
    is_int(backend_spec_parse("a=http://h,b=http://i", 10, &s, err, sizeof(err)), 0,
           "the spec ends at len");
    is_str(s.url, "http://h", "and its URL with it");
}

static void test_lists(void)
{
    struct backend_spec s[3];
    char err[300];

    is_int((int)backend_list_parse("http://a:1,b=http://b:2", s, 3, err, sizeof(err)), 2, "two");
    is_str(s[0].name, "a-1", "the first named from its URL");
    is_str(s[1].name, "b", "the second by its NAME=");
    is_int((int)backend_list_parse(",,http://a,", s, 3, err, sizeof(err)), 1,
           "empty items are skipped");
    is_int((int)backend_list_parse("", s, 3, err, sizeof(err)), 0, "an empty list is none");
    is_int((int)backend_list_parse("x=http://a,x=http://b", s, 3, err, sizeof(err)), -1,
           "a name given twice is refused");
    ok(strstr(err, "'x' is given twice") != NULL, "saying which (%s)", err);
    is_int((int)backend_list_parse("http://a:1,http://a:1", s, 3, err, sizeof(err)), -1,
           "so is one URL twice (the same name)");
    is_int((int)backend_list_parse("http://a,http://b,http://c,http://d", s, 3, err,
                                   sizeof(err)),
           -1, "more than max");
    is_int((int)backend_list_parse("http://a,https://b", s, 3, err, sizeof(err)), -1,
           "one bad item refuses the list");
    ok(strstr(err, "'https://b'") != NULL, "naming it (%s)", err);
}

int main(void)
{
    test_specs();
    test_edges();
    test_lists();
    return done_testing();
}
