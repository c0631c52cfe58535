#include "widgets/documentloader.h"

#include "core/formats/documentreader.h"
#include "core/io/readerror.h"
#include "widgets/jobtracker.h"

namespace te {
namespace {

struct LoadResult {
    std::shared_ptr<const Document> document;
    std::shared_ptr<const TreeNode> tree; // built on the worker too: the GUI thread only shows it
    QString path;
    QString error;
    bool cancelled = false;
};

// On the worker thread.
LoadResult read(const QString &path, const JobControl &job)
{
    LoadResult r;
    r.path = path;
    ReadOptions options;
    options.cancel = job.cancelFlag();
    options.progress = [&job](double fraction, const std::string &label) {
        job.setProgress(static_cast<int>(fraction * 100), QString::fromStdString(label));
    };
    try {
        std::shared_ptr<const Document> doc = readDocument(path.toStdString(), options);
        r.tree = buildDocumentTree(*doc);
        r.document = std::move(doc);
    } catch (const Cancelled &) {
        r.cancelled = true;
    } catch (const ReadError &e) {
        r.error = QString::fromStdString(e.what());
    } catch (const std::bad_alloc &) {
        r.error = QStringLiteral("%1: out of memory while reading").arg(path);
    } catch (const std::exception &e) {
        r.error = QStringLiteral("%1: %2").arg(path, QString::fromStdString(e.what()));
    }
    return r;
}

} // namespace

DocumentLoader::DocumentLoader(QObject *parent)
    : QObject(parent)
    , m_jobs(new JobTracker(this))
{ }

// The tracker, a child, cancels the read still running.
DocumentLoader::~DocumentLoader() = default;

void DocumentLoader::cancel() { m_jobs->cancel(); }

bool DocumentLoader::isLoading() const { return m_jobs->isRunning(); }

void DocumentLoader::load(const QString &path)
{
    m_jobs->start([path](const JobControl &job) { return read(path, job); },
                  [this](const LoadResult &r) {
                      if (r.cancelled)
                          emit cancelled(r.path);
                      else if (r.document)
                          emit loaded(r.document, r.tree);
                      else
                          emit failed(r.path, r.error);
                  },
                  [this](int percent, const QString &label) { emit progress(percent, label); });
}

} // namespace te
