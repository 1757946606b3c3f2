/*
 * broker_request_fuzz.c - fuzz target for the broker's request parser (src/broker/proto.c):
 * framed requests, legacy EAA commands (first input byte selects the mode) and wrapped-key
 * annotations. The parser is compiled into this target directly so that it links with the
 * library alone (tests/CMakeLists.txt builds every fuzz target that way).
 */
#include "broker/proto.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool legacy = data[0] & 1;
    char why[256];
    struct vtb_request r;
    (void)vtb_request_parse(data + 1, size - 1, legacy, &r, why, sizeof(why)).err;
    vtb_request_free(&r);
    struct vtb_wrapped w;
    if (!vtb_wrapped_parse(data + 1, size - 1, &w, why, sizeof(why)).err) {
        struct vt_buf out = VT_BUF_INIT;
        if (!vtb_wrapped_json(&w, &out).err) {
            struct vtb_wrapped w2;
            if (!vtb_wrapped_parse(out.p, out.len, &w2, why, sizeof(why)).err)
                vtb_wrapped_free(&w2);
        }
        vt_buf_free(&out);
        vtb_wrapped_free(&w);
    }
    char norm[VTB_MAX_PATH + 1];
    char *s = strndup((const char *)data + 1, size - 1 > 300 ? 300 : size - 1);
    if (s) {
        (void)vtb_path_normalize(s, norm).err;
        (void)vtb_path_match("default/*/img-*", s);
        free(s);
    }
    return 0;
}
