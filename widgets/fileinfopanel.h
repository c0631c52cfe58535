#pragma once
// The File tab: format and producer, the forward signature of TorchScript, the state
// dicts and optimizers found, scalar metadata, the security report with every global,
// module hyper-parameters and the class source that legacy files carry.
#include "core/document/document.h"

#include <QTextBrowser>
#include <memory>

namespace te {

class FileInfoPanel : public QTextBrowser {
    Q_OBJECT
public:
    explicit FileInfoPanel(QWidget *parent = nullptr);
    void setDocument(const std::shared_ptr<const Document> &doc);
    static QString html(const Document &doc);
};

} // namespace te
