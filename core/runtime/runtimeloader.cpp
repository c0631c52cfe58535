#include "core/runtime/runtimeloader.h"

#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <unistd.h>

namespace te {
namespace {

const char *const kLibraryName = "libtorchexplorer_runtime.so";

std::string executableDir()
{
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return ".";
    std::string path(buf, static_cast<size_t>(n));
    return path.substr(0, path.rfind('/'));
}

std::mutex g_mutex;
Runtime *g_runtime = nullptr;
std::string g_error;
bool g_tried = false;

} // namespace

std::vector<std::string> runtimeSearchPaths()
{
    std::vector<std::string> paths;
    if (const char *env = std::getenv("TORCH_EXPLORER_RUNTIME"))
        paths.emplace_back(env);
    const std::string dir = executableDir();
    paths.push_back(dir + "/" + kLibraryName);                               // build tree: build/bin
    paths.push_back(dir + "/../" TE_RUNTIME_INSTALL_DIR "/" + kLibraryName); // installed
    return paths;
}

Runtime *loadRuntime(std::string *error)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!g_tried) {
        g_tried = true;
        std::string tried;
        for (const auto &path : runtimeSearchPaths()) {
            if (::access(path.c_str(), R_OK) != 0) {
                tried += "\n  " + path + " (not found)";
                continue;
            }
            void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
            if (!handle) {
                tried += "\n  " + path + " (" + ::dlerror() + ")";
                continue;
            }
            auto create = reinterpret_cast<Runtime *(*)(int)>(::dlsym(handle, "te_create_runtime"));
            Runtime *rt = create ? create(kRuntimeAbiVersion) : nullptr;
            if (!rt) {
                tried += "\n  " + path + " (not a compatible runtime library)";
                ::dlclose(handle);
                continue;
            }
            g_runtime = rt; // kept for the life of the process, like libtorch itself
            break;
        }
        if (!g_runtime)
            g_error = "the libtorch runtime library is not available; looked for:" + tried;
    }
    if (!g_runtime && error)
        *error = g_error;
    return g_runtime;
}

bool runtimeLoaded()
{
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_runtime != nullptr;
}

} // namespace te
