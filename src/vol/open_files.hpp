// open_files.hpp -- the files this process has open, and what happens to them at process exit.
//
// HDF5 shares one file's state between every open of it in a process (a second H5Fopen of an
// open file sees the first one's writes at once). The registry maps a file's resolved location
// (FileShared::url) to its shared state while any file id of it is open, so file_open can hand
// back the same FileShared and file_create can refuse to truncate an open file.
//
// Process exit (issue 17, "close and exit"): HDF5 closes what is still open from its own atexit
// handler (H5_term_library), after OpenSSL may have cleaned up (signing then crashes) and, for a
// file whose close already failed, again and again through the full retry loop. The exit hook
// runs before both: it makes one last attempt to flush each open writable file whose close has
// not failed, leaves those whose close failed (reported once, when it happened, and logged again
// here at error level), and then switches the connector to "exiting", where closing a file frees
// it without touching the store. The hook is registered after the first network store is created
// (and so after OpenSSL registered its own cleanup), which makes it run first (atexit is LIFO).
//
// Thread-safety: HDF5 calls the VOL from one thread at a time; the registry is also locked so the
// exit hook is safe whichever thread calls exit().
#pragma once

#include <memory>
#include <string>

namespace arraymorph::vol {

struct FileShared;

// The open file at `url`, or null.
std::shared_ptr<FileShared> find_open_file(const std::string& url);
void register_open_file(const std::shared_ptr<FileShared>& file);
void unregister_open_file(const FileShared* file);

// Registers the exit hook (once; again once after the first network store, see above).
void arm_exit_hook(bool network_store);
// True once the exit hook ran: file closes must not use the network any more.
bool exiting();

}  // namespace arraymorph::vol
