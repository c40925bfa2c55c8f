/*
 * xc_error.cc -- errors: the mapping of Xapian's exceptions to xc_code, injected faults for tests, remote failures, the version (see xc_int.hh for how the binding is laid out).
 */
#include "xc_int.hh"

std::atomic<long> xc_fault_countdown(0);
static std::atomic<int> fault_kind(XC_ERR_IO);
static std::atomic<bool> fault_fired(false);

/* The injected failure, when xc_fault_point's countdown reaches it. */
void xc_fault_fire(bool reads)
{
    if (!reads && fault_kind.load() != XC_ERR_NOMEM)
        return;
    if (xc_fault_countdown.fetch_sub(1) != 1)
        return;
    fault_fired.store(true);
    switch (fault_kind.load()) {
    case XC_ERR_MODIFIED:
        throw Xapian::DatabaseModifiedError("injected fault (xc_test_fail_after)");
    case XC_ERR_NOMEM: throw std::bad_alloc();
    default: throw Xapian::DatabaseError("injected fault (xc_test_fail_after)");
    }
}

extern "C" void xc_test_fail_after(long n)
{
    fault_fired.store(false);
    xc_fault_countdown.store(n < 0 ? 0 : n);
}

extern "C" void xc_test_fail_with(xc_code code)
{
    fault_kind.store(code == XC_ERR_MODIFIED || code == XC_ERR_NOMEM ? code : XC_ERR_IO);
}

extern "C" int xc_test_fault_fired(void)
{
    return fault_fired.load() ? 1 : 0;
}

char *xc_strdup(const std::string &s)
{
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (!p)
        throw std::bad_alloc();
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

void xc_make_error(xc_error **err, xc_code code, const std::string &msg)
{
    if (!err)
        return;
    xc_error *e = static_cast<xc_error *>(std::malloc(sizeof *e));
    if (!e) {
        *err = NULL;
        return;
    }
    e->code = code;
    e->message = static_cast<char *>(std::malloc(msg.size() + 1));
    if (e->message) {
        std::memcpy(e->message, msg.data(), msg.size());
        e->message[msg.size()] = '\0';
    }
    *err = e;
}

/* Remote shard failures seen by this thread (see xc_network_failures). */
static thread_local unsigned long net_failures;
static thread_local std::string net_last;

void xc_note_network(const Xapian::NetworkError &e)
{
    net_failures++;
    net_last = e.get_description();
}

/* Called from a catch(...) block of a function that reports no error: the failure is
 * dropped, but a remote one is still counted. */
void xc_swallow()
{
    try {
        throw;
    } catch (const Xapian::NetworkError &e) {
        xc_note_network(e);
    } catch (...) {
    }
}

extern "C" unsigned long xc_network_failures(void)
{
    return net_failures;
}

extern "C" const char *xc_network_last_error(void)
{
    return net_last.c_str();
}

/* Called from a catch(...) block: classifies the in-flight exception. */
void xc_set_error(xc_error **err)
{
    try {
        throw;
    } catch (const Xapian::DatabaseLockError &e) {
        xc_make_error(err, XC_ERR_LOCKED, e.get_description());
    } catch (const Xapian::DatabaseModifiedError &e) {
        xc_make_error(err, XC_ERR_MODIFIED, e.get_description());
    } catch (const Xapian::DatabaseNotFoundError &e) {
        xc_make_error(err, XC_ERR_NOT_FOUND, e.get_description());
    } catch (const Xapian::DocNotFoundError &e) {
        xc_make_error(err, XC_ERR_NOT_FOUND, e.get_description());
    } catch (const Xapian::QueryParserError &e) {
        xc_make_error(err, XC_ERR_QUERY, e.get_description());
    } catch (const Xapian::WildcardError &e) {
        xc_make_error(err, XC_ERR_QUERY, e.get_description());
    } catch (const Xapian::NetworkError &e) {
        xc_note_network(e);
        xc_make_error(err, XC_ERR_NETWORK, e.get_description());
    } catch (const Xapian::UnimplementedError &e) {
        xc_make_error(err, XC_ERR_UNSUPPORTED, e.get_description());
    } catch (const Xapian::DatabaseError &e) {
        xc_make_error(err, XC_ERR_IO, e.get_description());
    } catch (const Xapian::InvalidArgumentError &e) {
        xc_make_error(err, XC_ERR_INVALID, e.get_description());
    } catch (const Xapian::InvalidOperationError &e) {
        xc_make_error(err, XC_ERR_INVALID, e.get_description());
    } catch (const Xapian::Error &e) {
        xc_make_error(err, XC_ERR_INTERNAL, e.get_description());
    } catch (const std::bad_alloc &) {
        xc_make_error(err, XC_ERR_NOMEM, "out of memory");
    } catch (const std::exception &e) {
        xc_make_error(err, XC_ERR_INTERNAL, e.what());
    } catch (...) {
        xc_make_error(err, XC_ERR_INTERNAL, "unknown C++ exception");
    }
}

extern "C" void xc_error_free(xc_error *err)
{
    if (!err)
        return;
    std::free(err->message);
    std::free(err);
}

extern "C" const char *xc_code_name(xc_code code)
{
    switch (code) {
    case XC_OK: return "ok";
    case XC_ERR_NOT_FOUND: return "not_found";
    case XC_ERR_LOCKED: return "locked";
    case XC_ERR_MODIFIED: return "modified";
    case XC_ERR_QUERY: return "query_syntax";
    case XC_ERR_IO: return "io";
    case XC_ERR_NOMEM: return "out_of_memory";
    case XC_ERR_INVALID: return "invalid";
    case XC_ERR_NETWORK: return "network";
    case XC_ERR_INTERNAL: return "internal";
    case XC_ERR_UNSUPPORTED: return "unsupported";
    case XC_ERR_FIELD: return "bad_field";
    }
    return "unknown";
}

extern "C" const char *xc_version(void)
{
    return Xapian::version_string();
}
