#pragma once
// Internal to the writers: the tensors to export checked before any byte is written, their
// elements handed over in row-major order, and the output kept under a temporary name
// until it is complete.
#include "core/export/statedictwriter.h"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace te {

// One tensor checked for export: its bytes can be read and it fits its storage.
struct ExportSource {
    const std::string *key = nullptr;
    const Document *doc = nullptr;
    const TensorInfo *tensor = nullptr;
    const MappedFile *file = nullptr; // where the storage's bytes are
    uint64_t offset = 0;              // the storage's first byte in file
    int64_t numel = 0;
};

// Throws "cannot export "KEY": WHY".
[[noreturn]] void failExport(const std::string &key, const std::string &why);

// Refuses (through fail) keys given twice or not UTF-8, unreadable tensors, dtypes the
// format cannot name (typeName returns null) and tensors reaching outside their storage.
std::vector<ExportSource> checkSources(const std::vector<NamedTensor> &tensors, const char *(*typeName)(DType),
                                       const char *format);
// After copying: bytes from a file cut short underneath are zeros, not the tensor.
void checkIntact(const ExportSource &s);
// Hands the tensor's elements in row-major order to sink(pointer, bytes), in chunks. A
// contiguous tensor is copied through a bounded buffer straight from the file (or its
// fetcher), so exporting any number of tensors keeps resident memory flat; a strided one
// is walked in the map, whose pages are released afterwards. Honours options.cancel and
// reports options.progress.
void copyContiguous(const ExportSource &s, const std::function<void(const uint8_t *, size_t)> &sink,
                    const ExportOptions &options = {});

// Bytes of tensor data of all sources, and the running count for progress.
class ExportCounter {
public:
    ExportCounter(const std::vector<ExportSource> &sources, const ExportOptions &options);
    void add(uint64_t bytes);
    const ExportOptions &options() const { return m_options; }

private:
    const ExportOptions &m_options;
    uint64_t m_done = 0;
    uint64_t m_total = 0;
};

// The output under a temporary name in the same folder, renamed over the target only
// when complete, and removed otherwise.
class TempFile {
public:
    explicit TempFile(const std::string &target);
    ~TempFile();
    TempFile(const TempFile &) = delete;
    TempFile &operator=(const TempFile &) = delete;

    const std::string &path() const { return m_path; }
    std::FILE *file() const { return m_file; }

    // Closes our handle, for writers that open the path themselves.
    void release();
    void commit();

private:
    std::string m_target;
    std::string m_path;
    std::FILE *m_file = nullptr;
};

} // namespace te
