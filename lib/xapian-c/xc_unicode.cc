/*
 * xc_unicode.cc -- Xapian's Unicode tables, for lib/tokenize (see xc_int.hh for how the binding is laid out).
 */
#include "xc_int.hh"

/* ---- Unicode -------------------------------------------------------------------------- */

extern "C" unsigned xc_unicode_class(unsigned cp, unsigned *lower)
{
    /* Xapian::Unicode's functions are table lookups that cannot throw. */
    const unsigned STEM_MASK = (1u << Xapian::Unicode::LOWERCASE_LETTER) |
                               (1u << Xapian::Unicode::TITLECASE_LETTER) |
                               (1u << Xapian::Unicode::MODIFIER_LETTER) |
                               (1u << Xapian::Unicode::OTHER_LETTER);
    Xapian::Unicode::category cat = Xapian::Unicode::get_category(cp);
    unsigned c = 0;
    if (Xapian::Unicode::is_wordchar(cp))
        c |= XC_UC_WORD;
    if (cat == Xapian::Unicode::DECIMAL_DIGIT_NUMBER)
        c |= XC_UC_DIGIT;
    if ((STEM_MASK >> cat) & 1)
        c |= XC_UC_STEM;
    if (lower)
        *lower = Xapian::Unicode::tolower(cp);
    return c;
}

extern "C" char *xc_utf8_lower(const char *s, size_t len, size_t *outlen, xc_error **err)
{
    XC_TRY_PURE
    std::string low = Xapian::Unicode::tolower(std::string(s, len));
    if (outlen)
        *outlen = low.size();
    return xc_strdup(low);
    XC_CATCH(err, NULL)
}
