/// A value that must never reach a log or a screen: `Debug` prints a placeholder, there is no
/// `Display`, and the value comes out only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The value itself. Call it only where the value is used, never to print it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(«redacted»)")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("postgres://u:hunter2@h/db".to_owned());
        assert_eq!(format!("{secret:?}"), "Secret(«redacted»)");
        assert_eq!(secret.expose(), "postgres://u:hunter2@h/db");
    }
}
