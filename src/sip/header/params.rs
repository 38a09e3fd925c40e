//! `;name[=value]` parameter lists (URI params, Via params, header params).

/// A parameter list as written, starting at (or just after) the first `;`.
/// Lookups are case-insensitive on the name; values are returned raw (quotes kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a>(pub &'a [u8]);

impl<'a> Params<'a> {
    /// `Some(Some(v))` for `name=v`, `Some(None)` for a bare `name`, `None` when absent.
    pub fn get(&self, name: &str) -> Option<Option<&'a [u8]>> {
        let _ = name;
        todo!("sip-grammar helper")
    }

    /// Every (name, value) pair in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)> + 'a {
        let _ = self.0;
        std::iter::empty::<(&'a [u8], Option<&'a [u8]>)>()
    }
}
