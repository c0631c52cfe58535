// libFuzzer target: Hugging Face folder metadata. The input is read as config.json (the
// folder reader's bytes-level entry), then as a shard index; then it is written as the
// config.json and the model.safetensors.index.json / pytorch_model.bin.index.json of a
// scratch folder next to two small shards, which is opened as `inspect FOLDER` opens one.
#include "core/formats/documentreader.h"
#include "core/io/boundedjson.h"
#include "tests/fuzz/fuzzcommon.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;

void writeFile(const fs::path &path, std::string_view bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A one-tensor safetensors file: `key`, float32 [1].
std::string shard(const std::string &key)
{
    const std::string header = "{\"" + key + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    std::string bytes;
    for (int i = 0; i < 8; ++i)
        bytes += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    return bytes + header + std::string("\0\0\x80\x3f", 4);
}

// The scratch folder, made once per process: the shards an index may name.
const fs::path &scratch()
{
    static const fs::path dir = [] {
        std::string pattern = (fs::temp_directory_path() / "te-fuzz-hf-XXXXXX").string();
        if (!::mkdtemp(pattern.data()))
            std::abort();
        const fs::path d(pattern);
        writeFile(d / "model-00001-of-00002.safetensors", shard("a.weight"));
        writeFile(d / "model-00002-of-00002.safetensors", shard("b.weight"));
        writeFile(d / "pytorch_model-00001-of-00001.bin", shard("c.weight"));
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(scratch(), ec);
        });
        return d;
    }();
    return dir;
}

void readFolder(const std::string &path)
{
    std::unique_ptr<te::Document> doc;
    try {
        doc = te::readDocument(path);
    } catch (const te::ReadError &) {
        return;
    }
    te::fuzz::exercise(*doc);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    {
        te::Document doc;
        te::parseHuggingFaceConfig(doc, text);
        te::fuzz::exercise(doc);
    }
    try {
        (void)te::shardIndexFiles(te::parseBoundedJsonUnordered(text, "model.safetensors.index.json"),
                                  "model.safetensors.index.json");
    } catch (const te::ReadError &) { }
    const fs::path &dir = scratch();
    std::error_code ec;
    writeFile(dir / "config.json", text);
    fs::remove(dir / "pytorch_model.bin.index.json", ec);
    writeFile(dir / "model.safetensors.index.json", text);
    readFolder(dir.string());
    fs::remove(dir / "model.safetensors.index.json", ec);
    writeFile(dir / "pytorch_model.bin.index.json", text);
    readFolder((dir / "pytorch_model.bin.index.json").string());
    return 0;
}
