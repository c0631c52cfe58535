#pragma once
// Decides what a file is from its bytes. Every candidate format is confirmed by its
// structure before a reader commits to it (a safetensors header length can spell a pickle
// opcode, tensor bytes can spell a zip signature); the file name only breaks a tie
// between formats that both confirm, because an attacker chooses the name.
#include "core/io/mappedfile.h"

#include <string>
#include <vector>

namespace te {

// What is fetched first of a remote file, and all that detection walks of it.
constexpr uint64_t kRemoteHead = uint64_t(64) << 10;

enum class Container { Zip, Tar, Pickle, Safetensors, Unknown };

struct Detection {
    // The formats whose structure checks out, the one to read first at the front.
    std::vector<Container> candidates;
    Container container = Container::Unknown; // candidates.front(), or Unknown
};

Detection detectContainer(const MappedFile &file);

// Structural checks, one per format (exposed for tests).
bool confirmsZip(const MappedFile &file);
bool confirmsTar(const MappedFile &file);
bool confirmsSafetensors(const MappedFile &file);
// A pickle opcode stream that is well formed up to its STOP: known opcodes, arguments
// inside the file, a stack that never underflows. Walks at most `budget` bytes; a stream
// still well formed there counts as confirmed. CutShort: well formed until the bytes ran
// out, after a PROTO opcode (a truncated pickle, still worth scanning for what it holds).
enum class PickleShape { NotPickle, Complete, CutShort };
PickleShape pickleShape(const MappedFile &file, uint64_t budget = uint64_t(64) << 20);
inline bool confirmsPickle(const MappedFile &file) { return pickleShape(file) == PickleShape::Complete; }

const char *containerName(Container c); // "zip", "tar", "pickle", "safetensors"

} // namespace te
