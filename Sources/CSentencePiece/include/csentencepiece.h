// C ABI over libsentencepiece, so that only this target is compiled as C++.
#ifndef CSENTENCEPIECE_H
#define CSENTENCEPIECE_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct csp_processor csp_processor;

/// Loads a serialized ModelProto; returns NULL and writes a message to `error` on failure.
csp_processor *csp_load_bytes(const void *bytes, size_t length, char *error, size_t error_length);
void csp_free(csp_processor *processor);

/// Encodes UTF-8 text. On success returns 0 and a malloc'd array in *ids (free with csp_free_ids).
int csp_encode(const csp_processor *processor, const char *text, size_t length, int **ids, size_t *count);
void csp_free_ids(int *ids);

/// Decodes ids (all must be in range). Returns a malloc'd UTF-8 buffer (free with csp_free_string).
char *csp_decode(const csp_processor *processor, const int *ids, size_t count, size_t *length);
void csp_free_string(char *text);

int csp_piece_size(const csp_processor *processor);
/// The piece of an id, not NUL-terminated; *length receives its size. NULL when out of range.
const char *csp_id_to_piece(const csp_processor *processor, int id, size_t *length);
int csp_piece_to_id(const csp_processor *processor, const char *piece, size_t length);
int csp_bos_id(const csp_processor *processor);
int csp_eos_id(const csp_processor *processor);
int csp_unk_id(const csp_processor *processor);
int csp_is_control(const csp_processor *processor, int id);

#ifdef __cplusplus
}
#endif
#endif
