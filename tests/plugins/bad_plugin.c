/* SPDX-License-Identifier: Apache-2.0 */
/* bad_plugin.c - a shared object without vt_plugin_init: loading it must fail cleanly. */
__attribute__((visibility("default"))) int not_a_plugin(void);
int not_a_plugin(void)
{
    return 1;
}
