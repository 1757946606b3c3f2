/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eventlog_data.h - decoding of the event data of TCG / CCEL log events where the layout is
 * simple and fixed (PC Client PFP 1.05 section 10.4 and the UEFI structures it names):
 * UEFI_VARIABLE_DATA, UEFI_IMAGE_LOAD_EVENT (its file-path device-path node),
 * UEFI_PLATFORM_FIRMWARE_BLOB2 / HANDOFF_TABLES2 descriptions, separators, StartupLocality and
 * other EV_NO_ACTION signatures, and ASCII / UCS-2 strings (EV_IPL, EV_EFI_ACTION, ...).
 *
 * Trust boundary: the data is untrusted (it is covered by the event digest only for some
 * event types; the caller decides what a decoded value is worth). Bounded cursor reads; text
 * output is printable ASCII only (anything else becomes '?'), NUL-terminated, truncated to
 * the caller's buffer. Pure: no allocation, no crypto.
 */
#ifndef VT_EVIDENCE_EVENTLOG_DATA_H
#define VT_EVIDENCE_EVENTLOG_DATA_H

#include "evidence/eventlog.h"

#define VT_EFI_NAME_MAX 128u /* characters of a variable name we decode */

struct vt_efi_var {
    uint8_t guid[16];             /* VariableName GUID, as stored (mixed-endian) */
    char name[VT_EFI_NAME_MAX + 1]; /* UnicodeName as ASCII ('?' for anything else) */
    const uint8_t *data;
    uint64_t data_len;
};

/* UEFI_VARIABLE_DATA {GUID, UnicodeNameLength u64, VariableDataLength u64, UnicodeName[],
 * VariableData[]}: the whole event data. VT_ERR_TRUNCATED / VT_ERR_TRAILING_DATA /
 * VT_ERR_EVLOG_EVENT_SIZE (a name over VT_EFI_NAME_MAX characters). */
VT_RESULT vti_efi_var_parse(const uint8_t *p, size_t len, struct vt_efi_var *out);
/* The GUID as text "8be4df61-93ca-11d2-aa0d-00e098032b8c" (out: 37 bytes). */
void vti_efi_guid_str(const uint8_t guid[16], char out[37]);
/* UEFI_IMAGE_LOAD_EVENT: the first file-path node (type 4, subtype 4) of its device path, as
 * ASCII into out; false if there is none or the structure is malformed. */
bool vti_efi_image_path(const uint8_t *p, size_t len, char *out, size_t cap);
/* The event data as a string when it is one (ASCII or UCS-2, trailing NULs dropped). */
bool vti_evlog_data_string(const uint8_t *p, size_t len, char *out, size_t cap);
/* A one-line description of the event data where simple (see above); false otherwise. */
bool vti_evlog_describe(const struct vt_evlog_event *ev, char *out, size_t cap);

#endif
