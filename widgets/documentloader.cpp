#include "widgets/documentloader.h"

#include "core/formats/documentreader.h"
#include "core/io/readerror.h"

#include <QPromise>
#include <QtConcurrent>

namespace te {

DocumentLoader::DocumentLoader(QObject *parent)
    : QObject(parent)
{
}

DocumentLoader::~DocumentLoader()
{
    // The worker owns its own data; telling it to stop is enough.
    if (m_cancel)
        m_cancel->store(true);
}

void DocumentLoader::cancel()
{
    if (m_cancel)
        m_cancel->store(true);
}

void DocumentLoader::load(const QString &path)
{
    cancel();
    auto flag = std::make_shared<std::atomic<bool>>(false);
    m_cancel = flag;
    const quint64 generation = ++m_generation;
    m_loading = true;
    auto *watcher = new QFutureWatcher<LoadResult>(this);
    connect(watcher, &QFutureWatcher<LoadResult>::progressValueChanged, this, [this, watcher, generation](int value) {
        if (generation == m_generation)
            emit progress(value, watcher->progressText());
    });
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this, [this, watcher] { onFinished(watcher); });
    watcher->setFuture(QtConcurrent::run([path, flag, generation](QPromise<LoadResult> &promise) {
        LoadResult r;
        r.path = path;
        r.generation = generation;
        promise.setProgressRange(0, 100);
        ReadOptions options;
        options.cancel = flag.get();
        options.progress = [&promise](double fraction, const std::string &label) {
            promise.setProgressValueAndText(static_cast<int>(fraction * 100), QString::fromStdString(label));
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
        promise.addResult(std::move(r));
    }));
}

void DocumentLoader::onFinished(QFutureWatcher<LoadResult> *watcher)
{
    watcher->deleteLater();
    if (watcher->future().resultCount() == 0)
        return;
    LoadResult r = watcher->result();
    if (r.generation != m_generation)
        return; // the user has moved on to another file
    m_loading = false;
    if (r.cancelled)
        emit cancelled(r.path);
    else if (r.document)
        emit loaded(r.document, r.tree);
    else
        emit failed(r.path, r.error);
}

} // namespace te
