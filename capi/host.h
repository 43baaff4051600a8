// Private to capi: C helpers the Go side calls.
#ifndef SOLTI_CAPI_HOST_H
#define SOLTI_CAPI_HOST_H
#include <stddef.h>

void soltic_set_last_error(const char *msg, size_t len);
void soltic_restore_nofile(void);
int soltic_library_dir(char *buf, size_t len);
const char *soltic_trusted_getenv(const char *name);
void soltic_script_track(const char *path, size_t len);
void soltic_script_untrack(const char *path, size_t len);

#endif
