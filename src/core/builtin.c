/* SPDX-License-Identifier: Apache-2.0 */
/*
 * builtin.c - the built-in instances, registered at first use of the registry.
 *
 * Each module exports `const struct vt_instance_hdr *const vt_inst_<name>` pointing at its ops
 * table's header, and adds one VT_BUILTIN line to builtin.def in its own section.
 */
#include "core/instance.h"

#define VT_BUILTIN(sym) extern const struct vt_instance_hdr *const sym;
#include "core/builtin.def"
#undef VT_BUILTIN

void vti_register_builtins(void);
void vti_register_builtins(void)
{
#define VT_BUILTIN(sym) vti_register(sym);
#include "core/builtin.def"
#undef VT_BUILTIN
}
