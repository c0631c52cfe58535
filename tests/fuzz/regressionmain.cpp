// Runs a fuzz target's entry point on files, without libFuzzer: the regression inputs
// kept from findings and the seed files, as an ordinary test in every build. An input
// that takes longer than libFuzzer's -timeout of scripts/fuzz fails the run too: time
// superlinear in an input's size is a finding like a crash.
//
//   tst_fuzz_NAME PATH...   (files, or folders searched recursively)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    std::vector<std::filesystem::path> files;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path p(argv[i]);
        std::error_code ec;
        if (std::filesystem::is_directory(p, ec)) {
            for (const auto &e : std::filesystem::recursive_directory_iterator(p, ec))
                if (e.is_regular_file())
                    files.push_back(e.path());
        } else if (std::filesystem::is_regular_file(p, ec)) {
            files.push_back(p);
        } else {
            std::fprintf(stderr, "no such file or folder: %s\n", argv[i]);
            return 2;
        }
    }
    if (files.empty()) {
        std::fprintf(stderr, "no inputs\n");
        return 2;
    }
    constexpr double kMaxSeconds = 10;
    int slow = 0;
    for (const auto &f : files) {
        std::ifstream in(f, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto start = std::chrono::steady_clock::now();
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        if (took.count() > kMaxSeconds) {
            std::fprintf(stderr, "%s took %.1f s, more than %.0f s\n", f.c_str(), took.count(), kMaxSeconds);
            ++slow;
        }
    }
    std::printf("%zu inputs ran without a crash\n", files.size());
    return slow ? 1 : 0;
}
