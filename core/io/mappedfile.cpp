#include "mappedfile.h"
#include "readerror.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace te {

std::shared_ptr<const MappedFile> MappedFile::open(const std::string &path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw ReadError("cannot open: " + std::string(std::strerror(errno)), path);
    struct stat st {};
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
    } else {
        static const uint8_t empty = 0;
        file->m_data = &empty;
    }
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

MappedFile::~MappedFile()
{
    if (m_mapping)
        ::munmap(m_mapping, m_size);
    if (m_fd >= 0)
        ::close(m_fd);
}

} // namespace te
