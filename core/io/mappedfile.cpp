#include "core/io/mappedfile.h"
#include "core/io/readerror.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace te {
namespace {

// The registry the SIGBUS handler reads. Only atomics: the handler may run on any thread
// at any moment, so it takes no locks and allocates nothing.
struct Slot {
    std::atomic<uintptr_t> begin{0};
    std::atomic<uintptr_t> end{0};
    std::atomic<bool> damaged{false};
    std::atomic<bool> remote{false}; // pages not fetched yet are not readable
};
constexpr int kSlots = 1024;
Slot g_slots[kSlots];
std::atomic<int> g_claimed[kSlots];
struct sigaction g_previous;
struct sigaction g_previousSegv;
uintptr_t g_pageSize = 4096;
std::once_flag g_installOnce;
std::once_flag g_installSegvOnce;

void chain(const struct sigaction &previous, int sig, siginfo_t *info, void *context)
{
    if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction) {
        previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN && previous.sa_handler) {
        previous.sa_handler(sig);
    } else {
        ::signal(sig, SIG_DFL); // returning re-runs the access, which now ends the process
    }
}

// A read of a remote file's bytes before they were fetched: one page of zeros in place
// of the missing one, and the map is marked, so the read is reported rather than fatal.
void onSegmentationFault(int sig, siginfo_t *info, void *context)
{
    const auto address = reinterpret_cast<uintptr_t>(info->si_addr);
    for (auto &slot : g_slots) {
        const uintptr_t begin = slot.begin.load(), end = slot.end.load();
        if (begin == 0 || !slot.remote.load() || address < begin || address >= end)
            continue;
        const uintptr_t page = address & ~(g_pageSize - 1);
        void *p = ::mmap(reinterpret_cast<void *>(page), g_pageSize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                         -1, 0);
        if (p != MAP_FAILED) {
            slot.damaged.store(true);
            return;
        }
        break;
    }
    chain(g_previousSegv, sig, info, context);
}

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
    chain(g_previous, sig, info, context);
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

void installSegvHandler()
{
    std::call_once(g_installSegvOnce, [] {
        struct sigaction action { };
        action.sa_sigaction = onSegmentationFault;
        action.sa_flags = SA_SIGINFO | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGSEGV, &action, &g_previousSegv);
    });
}

int registerMapping(const void *data, uint64_t size, bool remote = false)
{
    installBusHandler();
    if (remote)
        installSegvHandler();
    for (int i = 0; i < kSlots; ++i) {
        int expected = 0;
        if (g_claimed[i].compare_exchange_strong(expected, 1)) {
            g_slots[i].damaged.store(false);
            g_slots[i].remote.store(remote);
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
    g_slots[slot].remote.store(false);
    g_claimed[slot].store(0);
}

thread_local const FetchScope *t_scope = nullptr;

constexpr uint64_t kBlock = uint64_t(64) << 10; // what one fetch reads at least, aligned
constexpr uint64_t kChunk = uint64_t(16) << 20; // the most one request asks for
constexpr uint64_t kGapBlocks = 1;              // fetched blocks between two runs read again

} // namespace

FetchScope::FetchScope(const std::atomic<bool> *c, std::function<void(uint64_t, uint64_t)> p)
    : cancel(c)
    , progress(std::move(p))
    , m_outer(t_scope)
{
    t_scope = this;
}

FetchScope::~FetchScope() { t_scope = m_outer; }

const FetchScope *FetchScope::current() { return t_scope; }

struct MappedFile::Remote {
    std::unique_ptr<ByteFetcher> fetcher;
    int temp = -1;             // the unlinked file that holds the fetched blocks
    std::vector<bool> present; // per block
    std::mutex mutex;
    FetchStats stats;
};

std::shared_ptr<const MappedFile> MappedFile::openRemote(std::string name, uint64_t size,
                                                         std::unique_ptr<ByteFetcher> fetcher)
{
    std::shared_ptr<MappedFile> file(new MappedFile);
    file->m_path = std::move(name);
    file->m_size = size;
    file->m_remote = std::make_unique<Remote>();
    file->m_remote->fetcher = std::move(fetcher);
    if (size == 0) {
        static const uint8_t empty = 0;
        file->m_data = &empty;
        return file;
    }
    const char *tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/torch-explorer-remote-XXXXXX";
    int fd = ::mkstemp(pattern.data());
    if (fd < 0)
        throw ReadError("cannot make a temporary file for the fetched bytes in " + pattern + ": " +
                            std::strerror(errno),
                        file->m_path);
    ::unlink(pattern.c_str());
    file->m_remote->temp = fd;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0)
        throw ReadError("cannot size the temporary file for the fetched bytes: " + std::string(std::strerror(errno)),
                        file->m_path);
    void *p = ::mmap(nullptr, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        throw ReadError("cannot reserve " + std::to_string(size) + " bytes of address space: " + std::strerror(errno),
                        file->m_path);
    file->m_mapping = p;
    file->m_data = static_cast<const uint8_t *>(p);
    file->m_remote->present.assign(static_cast<size_t>((size + kBlock - 1) / kBlock), false);
    file->m_slot = registerMapping(p, size, true);
    return file;
}

void MappedFile::need(uint64_t offset, uint64_t n) const
{
    if (m_whole && offset < m_size) {
        m_whole->need(m_base + offset, std::min(n, m_size - offset));
        return;
    }
    if (!m_remote || n == 0 || offset >= m_size)
        return;
    const uint64_t end = offset + std::min(n, m_size - offset);
    Remote &r = *m_remote;
    std::lock_guard<std::mutex> lock(r.mutex);
    // Runs of missing blocks; a run that starts within kGapBlocks of the previous one's
    // end is joined to it, as one request costs more than a few bytes read twice.
    std::vector<std::pair<uint64_t, uint64_t>> runs; // [first, last] blocks
    for (uint64_t b = offset / kBlock; b <= (end - 1) / kBlock; ++b) {
        if (r.present[static_cast<size_t>(b)])
            continue;
        if (!runs.empty() && b - runs.back().second <= kGapBlocks + 1)
            runs.back().second = b;
        else
            runs.emplace_back(b, b);
    }
    uint64_t total = 0, done = 0;
    for (const auto &[first, last] : runs)
        total += std::min(m_size, (last + 1) * kBlock) - first * kBlock;
    const FetchScope *scope = FetchScope::current();
    std::vector<uint8_t> buffer;
    for (const auto &[first, last] : runs) {
        const uint64_t runEnd = std::min(m_size, (last + 1) * kBlock);
        for (uint64_t at = first * kBlock; at < runEnd;) {
            if (scope && scope->cancel && scope->cancel->load())
                throw Cancelled();
            const uint64_t len = std::min(kChunk, runEnd - at);
            buffer.resize(static_cast<size_t>(len));
            const auto started = std::chrono::steady_clock::now();
            r.fetcher->fetch(at, len, buffer.data());
            r.stats.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            r.stats.bytes += len;
            r.stats.requests += 1;
            for (uint64_t w = 0; w < len;) {
                const ssize_t put =
                    ::pwrite(r.temp, buffer.data() + w, static_cast<size_t>(len - w), static_cast<off_t>(at + w));
                if (put < 0 && errno == EINTR)
                    continue;
                if (put <= 0)
                    throw ReadError("cannot keep the fetched bytes in the temporary file: " +
                                        std::string(std::strerror(errno)),
                                    m_path, static_cast<int64_t>(at + w));
                w += static_cast<uint64_t>(put);
            }
            void *p = ::mmap(const_cast<uint8_t *>(m_data) + at, len, PROT_READ, MAP_SHARED | MAP_FIXED, r.temp,
                             static_cast<off_t>(at));
            if (p == MAP_FAILED)
                throw ReadError("cannot map the fetched bytes: " + std::string(std::strerror(errno)), m_path,
                                static_cast<int64_t>(at));
            for (uint64_t b = at / kBlock; b * kBlock < at + len; ++b)
                r.present[static_cast<size_t>(b)] = true;
            at += len;
            done += len;
            if (scope && scope->progress)
                scope->progress(done, total);
        }
    }
}

FetchStats MappedFile::fetchStats() const
{
    if (m_whole)
        return m_whole->fetchStats();
    if (!m_remote)
        return {};
    std::lock_guard<std::mutex> lock(m_remote->mutex);
    return m_remote->stats;
}

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

std::shared_ptr<const MappedFile> MappedFile::slice(std::shared_ptr<const MappedFile> whole, uint64_t offset,
                                                    uint64_t size, std::string name)
{
    if (!whole || offset > whole->size() || size > whole->size() - offset)
        throw ReadError("bytes " + std::to_string(offset) + " to " + std::to_string(offset + size) +
                            " are not inside the file, which has " + std::to_string(whole ? whole->size() : 0),
                        whole ? whole->path() : name, static_cast<int64_t>(offset));
    std::shared_ptr<MappedFile> file(new MappedFile);
    file->m_path = std::move(name);
    file->m_data = whole->data() + offset;
    file->m_size = size;
    file->m_base = offset;
    file->m_whole = std::move(whole);
    return file;
}

void MappedFile::copyOut(uint64_t offset, uint64_t n, uint8_t *out) const
{
    if (offset > m_size || n > m_size - offset)
        throw ReadError("bytes " + std::to_string(offset) + " to " + std::to_string(offset + n) +
                            " are past the end of the file (" + std::to_string(m_size) + " bytes)",
                        m_path, static_cast<int64_t>(offset));
    if (m_whole) {
        m_whole->copyOut(m_base + offset, n, out);
        return;
    }
    if (m_remote) {
        // Blocks already here are copied from the map; the others come from the fetcher
        // straight into out, a run at a time, and are not kept.
        for (uint64_t at = offset; at < offset + n;) {
            const uint64_t block = at / kBlock;
            const uint64_t blockEnd = std::min(offset + n, (block + 1) * kBlock);
            bool present = false;
            {
                std::lock_guard<std::mutex> lock(m_remote->mutex);
                present = m_remote->present[static_cast<size_t>(block)];
            }
            uint64_t end = blockEnd;
            if (present) {
                std::memcpy(out + (at - offset), m_data + at, static_cast<size_t>(end - at));
            } else {
                std::lock_guard<std::mutex> lock(m_remote->mutex);
                while (end < offset + n && !m_remote->present[static_cast<size_t>(end / kBlock)])
                    end = std::min(offset + n, end + kBlock);
                const FetchScope *scope = FetchScope::current();
                if (scope && scope->cancel && scope->cancel->load())
                    throw Cancelled();
                const auto started = std::chrono::steady_clock::now();
                m_remote->fetcher->fetch(at, end - at, out + (at - offset));
                m_remote->stats.seconds +=
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
                m_remote->stats.bytes += end - at;
                m_remote->stats.requests += 1;
            }
            at = end;
        }
        return;
    }
    if (readAt(offset, out, static_cast<size_t>(n)) != n)
        throw ReadError("the file ends before byte " + std::to_string(offset + n) + " (it was cut short on disk)",
                        m_path, static_cast<int64_t>(offset));
}

size_t MappedFile::readAt(uint64_t offset, void *out, size_t n) const
{
    if (offset >= m_size)
        return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, m_size - offset));
    if (m_whole)
        return m_whole->readAt(m_base + offset, out, n);
    need(offset, n);
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
    if (m_whole && offset < m_size) {
        m_whole->release(m_base + offset, std::min(n, m_size - offset));
        return;
    }
    if (!m_mapping || offset >= m_size)
        return;
    n = std::min(n, m_size - offset);
    const uint64_t begin = (offset + g_pageSize - 1) & ~uint64_t(g_pageSize - 1);
    const uint64_t end = (offset + n) & ~uint64_t(g_pageSize - 1);
    if (end > begin)
        ::madvise(const_cast<uint8_t *>(m_data) + begin, end - begin, MADV_DONTNEED);
}

bool MappedFile::damaged() const
{
    return m_whole ? m_whole->damaged() : m_slot >= 0 && g_slots[m_slot].damaged.load();
}

bool MappedFile::changedOnDisk() const
{
    if (m_whole)
        return m_whole->changedOnDisk();
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
    if (m_remote && m_remote->temp >= 0)
        ::close(m_remote->temp);
}

} // namespace te
