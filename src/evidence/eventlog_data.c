/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_data.c - event data decoding where the layout is simple (see eventlog_data.h).
 */
#include <stdio.h>
#include <string.h>

#include "evidence/eventlog_aael.h"
#include "evidence/eventlog_data.h"

#define EV_S_CRTM_VERSION 0x08u
#define EV_POST_CODE 0x01u
#define EV_ACTION 0x05u
#define EV_IPL 0x0du
#define EV_COMPACT_HASH 0x0cu
#define EV_EFI_VARIABLE_DRIVER_CONFIG 0x80000001u
#define EV_EFI_VARIABLE_BOOT 0x80000002u
#define EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u
#define EV_EFI_BOOT_SERVICES_DRIVER 0x80000004u
#define EV_EFI_ACTION 0x80000007u
#define EV_EFI_PLATFORM_FIRMWARE_BLOB2 0x8000000au
#define EV_EFI_HANDOFF_TABLES2 0x8000000bu
#define EV_EFI_VARIABLE_BOOT2 0x8000000cu
#define EV_EFI_VARIABLE_AUTHORITY 0x800000e0u

static char printable(unsigned c)
{
    return c >= 0x20 && c < 0x7f ? (char)c : '?';
}

/* Copy n characters of width w (1 = ASCII, 2 = UCS-2 little-endian) into out. */
static void copy_chars(const uint8_t *p, size_t n, size_t w, char *out, size_t cap)
{
    size_t i = 0;
    for (; i < n && i + 1 < cap; i++)
        out[i] = printable(w == 2 ? vti_le16_unsafe(p + 2 * i) : p[i]);
    if (cap)
        out[i] = '\0';
}

vt_res vti_efi_var_parse(const uint8_t *p, size_t len, struct vt_efi_var *out)
{
    struct vt_cur c = vti_cur_init(p, len);
    uint64_t name_len;
    const uint8_t *name;
    memset(out, 0, sizeof(*out));
    GUARD(vti_cur_copy(&c, out->guid, 16));
    GUARD(vti_cur_u64le(&c, &name_len));
    GUARD(vti_cur_u64le(&c, &out->data_len));
    ENSURE(name_len <= VT_EFI_NAME_MAX, VT_ERR_EVLOG_EVENT_SIZE);
    GUARD(vti_cur_view(&c, (size_t)name_len * 2, &name));
    ENSURE(out->data_len <= vti_cur_left(&c), VT_ERR_TRUNCATED);
    GUARD(vti_cur_view(&c, (size_t)out->data_len, &out->data));
    GUARD(vti_cur_done(&c));
    copy_chars(name, (size_t)name_len, 2, out->name, sizeof(out->name));
    return vti_ok();
}

void vti_efi_guid_str(const uint8_t g[16], char out[37])
{
    snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", vti_le32_unsafe(g),
             vti_le16_unsafe(g + 4), vti_le16_unsafe(g + 6), g[8], g[9], g[10], g[11], g[12],
             g[13], g[14], g[15]);
}

/* UEFI_IMAGE_LOAD_EVENT {ImageLocationInMemory u64, ImageLengthInMemory u64,
 * ImageLinkTimeAddress u64, LengthOfDevicePath u64, DevicePath[]}; device-path nodes
 * {Type u8, SubType u8, Length u16 (>= 4, header included)} up to End (0x7f). */
bool vti_efi_image_path(const uint8_t *p, size_t len, char *out, size_t cap)
{
    struct vt_cur c = vti_cur_init(p, len), dp;
    uint64_t dp_len;
    if (!vti_is_ok(vti_cur_skip(&c, 24)) || !vti_is_ok(vti_cur_u64le(&c, &dp_len)) ||
        dp_len > vti_cur_left(&c) || !vti_is_ok(vti_cur_sub(&c, (size_t)dp_len, &dp)))
        return false;
    while (vti_cur_left(&dp) >= 4) {
        uint8_t type, sub;
        uint16_t nlen;
        const uint8_t *body;
        if (!vti_is_ok(vti_cur_u8(&dp, &type)) || !vti_is_ok(vti_cur_u8(&dp, &sub)) ||
            !vti_is_ok(vti_cur_u16le(&dp, &nlen)) || nlen < 4 || type == 0x7f ||
            !vti_is_ok(vti_cur_view(&dp, nlen - 4u, &body)))
            return false;
        if (type == 4 && sub == 4) {
            size_t n = (nlen - 4u) / 2;
            while (n > 0 && vti_le16_unsafe(body + 2 * (n - 1)) == 0)
                n--;
            copy_chars(body, n, 2, out, cap);
            return true;
        }
    }
    return false;
}

static bool all_printable(const uint8_t *p, size_t n, size_t w)
{
    for (size_t i = 0; i < n; i++) {
        unsigned ch = w == 2 ? vti_le16_unsafe(p + 2 * i) : p[i];
        if (!((ch >= 0x20 && ch < 0x7f) || ch == '\t' || ch == '\n' || ch == '\r'))
            return false;
    }
    return true;
}

bool vti_evlog_data_string(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t n = len;
    while (n > 0 && p[n - 1] == 0)
        n--;
    if (n > 0 && all_printable(p, n, 1)) {
        copy_chars(p, n, 1, out, cap);
        return true;
    }
    if (len % 2 != 0)
        return false;
    n = len / 2;
    while (n > 0 && vti_le16_unsafe(p + 2 * (n - 1)) == 0)
        n--;
    if (n == 0 || !all_printable(p, n, 2))
        return false;
    copy_chars(p, n, 2, out, cap);
    return true;
}

static bool describe_var(const struct vt_evlog_event *ev, char *out, size_t cap)
{
    struct vt_efi_var v;
    char g[37];
    if (!vti_is_ok(vti_efi_var_parse(ev->data, ev->data_len, &v)))
        return false;
    vti_efi_guid_str(v.guid, g);
    int k = snprintf(out, cap, "%s {%s} %llu byte(s)", v.name, g, (unsigned long long)v.data_len);
    if (k > 0 && (size_t)k < cap && v.data_len > 0 && v.data_len <= 8) {
        size_t off = (size_t)k;
        off += (size_t)snprintf(out + off, cap - off, ":");
        for (uint64_t i = 0; i < v.data_len && off + 3 < cap; i++)
            off += (size_t)snprintf(out + off, cap - off, " %02x", v.data[i]);
    }
    return true;
}

/* UEFI_PLATFORM_FIRMWARE_BLOB2 / UEFI_HANDOFF_TABLE_POINTERS2: {DescriptionSize u8,
 * Description[]...}. */
static bool describe_blob2(const struct vt_evlog_event *ev, char *out, size_t cap)
{
    if (ev->data_len < 1 || ev->data[0] == 0 || ev->data[0] > ev->data_len - 1u)
        return false;
    return vti_evlog_data_string(ev->data + 1, ev->data[0], out, cap);
}

static bool describe_no_action(const struct vt_evlog_event *ev, char *out, size_t cap)
{
    uint8_t loc;
    if (vti_evlog_startup_locality(ev, &loc)) {
        snprintf(out, cap, "StartupLocality %u", loc);
        return true;
    }
    /* a 16-byte signature first ("Spec ID Event03\0", "SP800-155 Event3", ...) */
    size_t n = ev->data_len < 16 ? ev->data_len : 16;
    const uint8_t *nul = n ? memchr(ev->data, 0, n) : NULL;
    if (nul)
        n = (size_t)(nul - ev->data);
    return n > 0 && vti_evlog_data_string(ev->data, n, out, cap);
}

/* A CoCo attestation-agent entry: "AAEL <domain> <operation> <content>". */
static bool describe_aael(const struct vt_evlog_event *ev, char *out, size_t cap)
{
    struct vt_aael_entry e;
    if (!vti_is_ok(vti_aael_parse(ev->data, ev->data_len, &e)))
        return false;
    snprintf(out, cap, "AAEL %.*s %.*s %.*s", (int)e.domain_len, e.domain, (int)e.operation_len,
             e.operation, (int)e.content_len, e.content);
    return true;
}

bool vti_evlog_describe(const struct vt_evlog_event *ev, char *out, size_t cap)
{
    if (cap == 0)
        return false;
    out[0] = '\0';
    switch (ev->type) {
    case VT_EV_NO_ACTION:
        return describe_no_action(ev, out, cap);
    case VT_EV_EVENT_TAG:
        return describe_aael(ev, out, cap);
    case VT_EV_SEPARATOR:
        if (ev->data_len != 4)
            return false;
        snprintf(out, cap, "0x%08x%s", vti_le32_unsafe(ev->data),
                 vti_le32_unsafe(ev->data) == 0 ? "" : " (error)");
        return true;
    case EV_EFI_VARIABLE_DRIVER_CONFIG:
    case EV_EFI_VARIABLE_BOOT:
    case EV_EFI_VARIABLE_BOOT2:
    case EV_EFI_VARIABLE_AUTHORITY:
        return describe_var(ev, out, cap);
    case EV_EFI_BOOT_SERVICES_APPLICATION:
    case EV_EFI_BOOT_SERVICES_DRIVER:
        return vti_efi_image_path(ev->data, ev->data_len, out, cap);
    case EV_EFI_PLATFORM_FIRMWARE_BLOB2:
    case EV_EFI_HANDOFF_TABLES2:
        return describe_blob2(ev, out, cap);
    case EV_S_CRTM_VERSION:
    case EV_POST_CODE:
    case EV_ACTION:
    case EV_IPL:
    case EV_COMPACT_HASH:
    case EV_EFI_ACTION:
        return vti_evlog_data_string(ev->data, ev->data_len, out, cap);
    default:
        return false;
    }
}
