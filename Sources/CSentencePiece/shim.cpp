#include "csentencepiece.h"

#include <sentencepiece_processor.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct csp_processor {
    sentencepiece::SentencePieceProcessor sp;
};

static void write_error(char *error, size_t error_length, const std::string &message) {
    if (error == nullptr || error_length == 0) return;
    size_t n = message.size() < error_length - 1 ? message.size() : error_length - 1;
    std::memcpy(error, message.data(), n);
    error[n] = 0;
}

extern "C" csp_processor *csp_load_bytes(const void *bytes, size_t length, char *error, size_t error_length) {
    try {
        auto *p = new csp_processor();
        auto status = p->sp.LoadFromSerializedProto(
            absl::string_view(static_cast<const char *>(bytes), length));
        if (!status.ok()) {
            write_error(error, error_length, status.ToString());
            delete p;
            return nullptr;
        }
        return p;
    } catch (const std::exception &e) {
        write_error(error, error_length, e.what());
    } catch (...) {
        write_error(error, error_length, "unknown C++ exception");
    }
    return nullptr;
}

extern "C" void csp_free(csp_processor *processor) { delete processor; }

extern "C" int csp_encode(const csp_processor *processor, const char *text, size_t length, int **ids, size_t *count) {
    *ids = nullptr;
    *count = 0;
    try {
        std::vector<int> out;
        auto status = processor->sp.Encode(absl::string_view(text, length), &out);
        if (!status.ok()) return 1;
        int *buffer = static_cast<int *>(std::malloc(sizeof(int) * (out.size() ? out.size() : 1)));
        if (buffer == nullptr) return 2;
        if (!out.empty()) std::memcpy(buffer, out.data(), sizeof(int) * out.size());
        *ids = buffer;
        *count = out.size();
        return 0;
    } catch (...) {
        return 3;
    }
}

extern "C" void csp_free_ids(int *ids) { std::free(ids); }

extern "C" char *csp_decode(const csp_processor *processor, const int *ids, size_t count, size_t *length) {
    *length = 0;
    try {
        std::vector<int> in(ids, ids + count);
        std::string out;
        auto status = processor->sp.Decode(in, &out);
        if (!status.ok()) return nullptr;
        char *buffer = static_cast<char *>(std::malloc(out.size() + 1));
        if (buffer == nullptr) return nullptr;
        std::memcpy(buffer, out.data(), out.size());
        buffer[out.size()] = 0;
        *length = out.size();
        return buffer;
    } catch (...) {
        return nullptr;
    }
}

extern "C" void csp_free_string(char *text) { std::free(text); }

extern "C" int csp_piece_size(const csp_processor *processor) { return processor->sp.GetPieceSize(); }

extern "C" const char *csp_id_to_piece(const csp_processor *processor, int id, size_t *length) {
    if (id < 0 || id >= processor->sp.GetPieceSize()) return nullptr;
    const std::string &piece = processor->sp.IdToPiece(id);
    *length = piece.size();
    return piece.data();
}

extern "C" int csp_piece_to_id(const csp_processor *processor, const char *piece, size_t length) {
    return processor->sp.PieceToId(absl::string_view(piece, length));
}

extern "C" int csp_bos_id(const csp_processor *processor) { return processor->sp.bos_id(); }
extern "C" int csp_eos_id(const csp_processor *processor) { return processor->sp.eos_id(); }
extern "C" int csp_unk_id(const csp_processor *processor) { return processor->sp.unk_id(); }
extern "C" int csp_is_control(const csp_processor *processor, int id) {
    if (id < 0 || id >= processor->sp.GetPieceSize()) return 0;
    return processor->sp.IsControl(id) ? 1 : 0;
}
