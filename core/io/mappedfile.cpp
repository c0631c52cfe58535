#include "core/io/mappedfile.h"
#include "core/io/readerror.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace te {
namespace {

// The registry the SIGBUS handler reads. Only atomics: the handler may run on any thread
// at any moment, so it takes no locks and allocates nothing.
struct Slot {
    std::atomic<uintptr_t> begin{0};
    std::atomic<uintptr_t> end{0};
    std::atomic<bool> damaged{false};
};
constexpr int kSlots = 1024;
Slot g_slots[kSlots];
std::atomic<int> g_claimed[kSlots];
struct sigaction g_previous;
uintptr_t g_pageSize = 4096;
std::once_flag g_installOnce;

void onBusError(int sig, siginfo_t *info, void *context)
{
    const auto address = reinterpret_cast<uintptr_t>(info->si_addr);
    for (auto &slot : g_slots) {
        const uintptr_t begin = slot.begin.load(), end = slot.end.load();
        if (begin == 0 || address < begin || address >= end)
            continue;
        // Everything from this page on lies past the file's new end: zeros instead.
        const uintptr_t page = address & ~(g_pageSize - 1);
        void *p = ::mmap(reinterpret_cast<void *>(page), end - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                         -1, 0);
        if (p != MAP_FAILED) {
            slot.damaged.store(true);
            return; // the faulting read runs again and finds a zero
        }
        break;
    }
    // Not one of our maps (or no memory for the patch): whatever handled SIGBUS before.
    if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction) {
        g_previous.sa_sigaction(sig, info, context);
    } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN && g_previous.sa_handler) {
        g_previous.sa_handler(sig);
    } else {
        ::signal(SIGBUS, SIG_DFL); // returning re-runs the access, which now ends the process
    }
}

void installBusHandler()
{
    std::call_once(g_installOnce, [] {
        long page = ::sysconf(_SC_PAGESIZE);
        if (page > 0)
            g_pageSize = static_cast<uintptr_t>(page);
        struct sigaction action { };
        action.sa_sigaction = onBusError;
        action.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGBUS, &action, &g_previous);
    });
}

int registerMapping(const void *data, uint64_t size)
{
    installBusHandler();
    for (int i = 0; i < kSlots; ++i) {
        int expected = 0;
        if (g_claimed[i].compare_exchange_strong(expected, 1)) {
            g_slots[i].damaged.store(false);
            g_slots[i].end.store(reinterpret_cast<uintptr_t>(data) + size);
            g_slots[i].begin.store(reinterpret_cast<uintptr_t>(data));
            return i;
        }
    }
    return -1; // more maps open than slots: this one is unprotected
}

void unregisterMapping(int slot)
{
    if (slot < 0)
        return;
    g_slots[slot].begin.store(0);
    g_slots[slot].end.store(0);
    g_claimed[slot].store(0);
}

} // namespace

std::shared_ptr<const MappedFile> MappedFile::open(const std::string &path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw ReadError("cannot open: " + std::string(std::strerror(errno)), path);
    struct stat st { };
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        throw ReadError("cannot stat: " + std::string(std::strerror(err)), path);
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw ReadError("is a folder, not a file", path);
    }
    std::shared_ptr<MappedFile> file(new MappedFile);
    file->m_path = path;
    file->m_size = static_cast<uint64_t>(st.st_size);
    if (file->m_size > 0) {
        void *p = ::mmap(nullptr, file->m_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int err = errno;
            ::close(fd);
            throw ReadError("cannot map: " + std::string(std::strerror(err)), path);
        }
        file->m_mapping = p;
        file->m_data = static_cast<const uint8_t *>(p);
        file->m_slot = registerMapping(p, file->m_size);
    } else {
        static const uint8_t empty = 0;
        file->m_data = &empty;
    }
    file->m_mtimeNs = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    file->m_fd = fd;
    return file;
}

std::shared_ptr<const MappedFile> MappedFile::fromBytes(std::string bytes, std::string name)
{
    std::shared_ptr<MappedFile> file(new MappedFile);
    file->m_owned = std::move(bytes);
    file->m_path = std::move(name);
    file->m_data = reinterpret_cast<const uint8_t *>(file->m_owned.data());
    file->m_size = file->m_owned.size();
    return file;
}

size_t MappedFile::readAt(uint64_t offset, void *out, size_t n) const
{
    if (offset >= m_size)
        return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, m_size - offset));
    if (m_fd < 0) {
        std::memcpy(out, m_data + offset, n);
        return n;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t got = ::pread(m_fd, static_cast<char *>(out) + done, n - done, static_cast<off_t>(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break; // the file shrank underneath: report what was read
        done += static_cast<size_t>(got);
    }
    return done;
}

void MappedFile::release(uint64_t offset, uint64_t n) const
{
    if (!m_mapping || offset >= m_size)
        return;
    n = std::min(n, m_size - offset);
    const uint64_t begin = (offset + g_pageSize - 1) & ~uint64_t(g_pageSize - 1);
    const uint64_t end = (offset + n) & ~uint64_t(g_pageSize - 1);
    if (end > begin)
        ::madvise(const_cast<uint8_t *>(m_data) + begin, end - begin, MADV_DONTNEED);
}

bool MappedFile::damaged() const { return m_slot >= 0 && g_slots[m_slot].damaged.load(); }

bool MappedFile::changedOnDisk() const
{
    if (m_fd < 0)
        return false;
    struct stat st { };
    if (::fstat(m_fd, &st) != 0)
        return true;
    const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (static_cast<uint64_t>(st.st_size) != m_size || mtime != m_mtimeNs || damaged())
        return true;
    // Saved anew under the same name (written elsewhere, then renamed over it): the open
    // file is intact, but the path now names another one. A path that names nothing was
    // deleted, which is not a change of what is open.
    struct stat now { };
    return !m_path.empty() && ::stat(m_path.c_str(), &now) == 0 && (now.st_ino != st.st_ino || now.st_dev != st.st_dev);
}

MappedFile::~MappedFile()
{
    unregisterMapping(m_slot);
    if (m_mapping)
        ::munmap(m_mapping, m_size);
    if (m_fd >= 0)
        ::close(m_fd);
}

} // namespace te
