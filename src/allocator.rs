//! Keeps the process's memory close to what it uses: glibc's allocator otherwise opens an
//! arena per thread and keeps what a refresh freed in each of them.

/// Arenas glibc may open: enough for two threads to allocate without contention.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAX_ARENAS: libc::c_int = 2;

/// Caps glibc's arenas. Call before any thread starts; elsewhere it does nothing.
#[allow(unsafe_code)] // The two calls into the C library are the crate's only unsafe code.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before other threads
    // exist, and a refused value leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MAX_ARENAS);
    }
}

/// Hands memory that a refresh freed back to the system.
#[allow(unsafe_code)]
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's heaps to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}
