// The model's module tree, as load_state_dict's recursion walks it.
#include "core/diagnose/loadcheckinternal.h"

#include <mutex>
#include <string_view>
#include <vector>

namespace te::detail {

ModelTree::ModelTree(const ExpectedModel &model)
    : m_model(model)
    , m_keyIndex(model.keys.size())
{
    indexKeys();
    const auto parentOfKey = collectModules();
    linkKeys(parentOfKey);
    sortPreOrder();
}

void ModelTree::indexKeys()
{
    m_distinctOf.reserve(m_model.keys.size());
    for (const auto &k : m_model.keys) {
        const auto [key, added] = m_keyIndex.insert(k.key, static_cast<uint32_t>(m_distinct.size()));
        if (added)
            m_distinct.push_back(&k);
        m_distinctOf.push_back(key);
        m_expectedElements += k.elements;
    }
}

uint32_t ModelTree::addModule(std::string_view path)
{
    const auto [node, added] = m_nodes.insert(path, static_cast<uint32_t>(m_paths.size()));
    if (added) {
        m_paths.push_back(path);
        m_parents.push_back(kNone);
    }
    return node;
}

// The reference's modules, then every proper prefix of a key, parents first. The look back
// up a key ends at a prefix known with all of its own prefixes, so a key costs its new
// modules, not its depth times its length. Returns the module of each key's parent path.
std::vector<uint32_t> ModelTree::collectModules()
{
    std::vector<char> closed; // all proper prefixes of the module's path are modules too
    addModule("");
    for (const auto &m : m_model.modulePaths)
        addModule(m);
    closed.assign(m_paths.size(), 0);
    closed[0] = 1;
    std::vector<uint32_t> parentOfKey;
    parentOfKey.reserve(m_model.keys.size());
    std::vector<size_t> dots;
    for (const auto &k : m_model.keys) {
        const std::string_view key = k.key;
        dots.clear();
        for (size_t pos = key.find('.'); pos != std::string_view::npos; pos = key.find('.', pos + 1))
            dots.push_back(pos);
        size_t known = dots.size();
        uint32_t module = 0;
        for (; known > 0; --known) {
            module = m_nodes.find(key.substr(0, dots[known - 1]));
            if (module != kNone && closed[module])
                break;
        }
        if (known == 0)
            module = 0;
        for (; known < dots.size(); ++known) {
            const uint32_t parent = module;
            module = addModule(key.substr(0, dots[known]));
            closed.resize(m_paths.size(), 0);
            closed[module] = 1;
            if (m_parents[module] == kNone && module != 0)
                m_parents[module] = parent;
        }
        parentOfKey.push_back(module);
    }
    for (uint32_t m = 1; m < m_paths.size(); ++m)
        if (m_parents[m] == kNone)
            m_parents[m] = m_nodes.find(parentOf(m_paths[m]));
    return parentOfKey;
}

// Each module's own keys, in the model's order.
void ModelTree::linkKeys(const std::vector<uint32_t> &parentOfKey)
{
    m_ownBegin.assign(m_paths.size() + 1, 0);
    for (const uint32_t m : parentOfKey)
        ++m_ownBegin[m + 1];
    for (size_t m = 0; m < m_paths.size(); ++m)
        m_ownBegin[m + 1] += m_ownBegin[m];
    std::vector<uint32_t> next(m_ownBegin.begin(), m_ownBegin.end() - 1);
    m_ownKeys.resize(parentOfKey.size());
    for (size_t i = 0; i < parentOfKey.size(); ++i) {
        // The recursion names a key prefix + name: under the root that is the last name
        // alone, which for a key with a leading dot is not the key itself.
        const std::string_view key = m_model.keys[i].key;
        const bool leadingDot = parentOfKey[i] == 0 && key.find('.') != std::string_view::npos;
        const uint32_t named = leadingDot ? keyOf(lastOf(key)) : m_distinctOf[i];
        m_ownKeys[next[parentOfKey[i]]++] = named;
        if (named == kNone && m_unnamedKey.empty())
            m_unnamedKey = key;
    }
}

// A module's subtree follows it directly; siblings keep their first-seen order. Modules
// whose parent path is no module are not visited, as in the recursion.
void ModelTree::sortPreOrder()
{
    std::vector<uint32_t> kidsBegin(m_paths.size() + 1, 0);
    for (uint32_t m = 1; m < m_paths.size(); ++m)
        if (m_parents[m] != kNone)
            ++kidsBegin[m_parents[m] + 1];
    for (size_t m = 0; m < m_paths.size(); ++m)
        kidsBegin[m + 1] += kidsBegin[m];
    std::vector<uint32_t> kids(kidsBegin.back()), next(kidsBegin.begin(), kidsBegin.end() - 1);
    for (uint32_t m = 1; m < m_paths.size(); ++m)
        if (m_parents[m] != kNone)
            kids[next[m_parents[m]]++] = m;
    std::vector<uint32_t> stack{0};
    m_visited.assign(m_paths.size(), 0);
    m_occurrences.assign(m_distinct.size(), 0);
    while (!stack.empty()) {
        const uint32_t m = stack.back();
        stack.pop_back();
        m_order.push_back({m, m_ownBegin[m], m_ownBegin[m + 1]});
        m_visited[m] = 1;
        for (uint32_t i = m_ownBegin[m]; i < m_ownBegin[m + 1]; ++i)
            if (m_ownKeys[i] != kNone)
                ++m_occurrences[m_ownKeys[i]];
        stack.insert(stack.end(), kids.rbegin() + (kids.size() - kidsBegin[m + 1]),
                     kids.rbegin() + (kids.size() - kidsBegin[m]));
    }
}

// The recursion descends from prefix m into child c when c is a module whose path splits
// into m and c at its last dot; the prefix is then m + "." + c, or c alone under the root.
void ModelTree::prepareWalk() const
{
    for (uint32_t m = 1; m < m_paths.size(); ++m) {
        const std::string_view path = m_paths[m], parent = parentOf(path), name = lastOf(path);
        const uint32_t into = parent.empty() ? intern(name) : m;
        m_children.insert(name, into, intern(parent));
    }
    for (size_t i = 0; i < m_model.keys.size(); ++i)
        m_ownNames.insert(lastOf(m_model.keys[i].key), 0, intern(parentOf(m_model.keys[i].key)));
}

uint32_t ModelTree::flaggedBy(std::string_view name) const
{
    std::call_once(m_walkPrepared, [this] { prepareWalk(); });
    uint32_t node = 0; // ""
    size_t pos = 0;
    for (;;) {
        const size_t dot = name.find('.', pos);
        const std::string_view first = name.substr(pos, dot == std::string_view::npos ? dot : dot - pos);
        const uint32_t child = m_children.find(first, node);
        if (child != kNone) {
            if (dot == std::string_view::npos)
                return kNone; // the name is a child module itself: no module sees it
            node = child;
            pos = dot + 1;
            continue;
        }
        return m_ownNames.find(first, node) == kNone ? node : kNone;
    }
}

} // namespace te::detail
