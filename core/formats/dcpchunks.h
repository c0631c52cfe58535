#pragma once
// The chunks of one tensor of a distributed checkpoint: each a box of the global tensor
// (offsets and sizes per dimension) whose elements were saved by one rank. Checked for
// boxes outside the tensor, overlaps and holes; assembled, when the values are wanted, into
// the row-major bytes of the whole tensor by a fetcher that copies each chunk's rows into
// place (so the bytes are read chunk by chunk, and never all held in memory for export).
#include "core/document/document.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace te {

struct DcpChunk {
    std::vector<int64_t> offsets; // where the box starts in the global tensor
    std::vector<int64_t> sizes;   // its extent in each dimension
    // Where its elements are: a file (a slice of a .distcp), the storage's first byte in
    // it, and the saved tensor's layout (strides and offset in elements).
    std::shared_ptr<const MappedFile> file;
    uint64_t storageOffset = 0;
    std::vector<int64_t> strides;
    int64_t elementOffset = 0;
    std::string where; // "__0_0.distcp at byte 1234", for messages
};

// Empty when the chunks cover the tensor of this shape exactly once; otherwise what is
// wrong, naming the chunk ("the chunk at [4, 0] of size [4, 8] overlaps the chunk at ...").
std::string checkDcpCoverage(const std::vector<int64_t> &shape, const std::vector<DcpChunk> &chunks);

// A file of the global tensor's row-major bytes, filled from the chunks as it is read.
std::shared_ptr<const MappedFile> assembleDcpTensor(std::string name, const std::vector<int64_t> &shape, DType dtype,
                                                    std::vector<DcpChunk> chunks);

} // namespace te
