/* mime-test-common.h: what the mime/ tests share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <libmailkit/mailkit.h>

G_BEGIN_DECLS

char *mime_test_data_path (const char *name);
GBytes *mime_test_data_bytes (const char *name);
char *mime_test_write_temp (const char *name, const void *data, gsize length);

GBytes *mime_test_serialize (GMimeObject *object);
char *mime_test_normalise_boundaries (GBytes *wire);
void mime_test_assert_golden (const char *wire, const char *golden_name);

void mime_test_python_check (GBytes *wire, ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
