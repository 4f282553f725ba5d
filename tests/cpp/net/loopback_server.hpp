// loopback_server.hpp -- a minimal HTTP/1.1 server on 127.0.0.1 for the transport and request
// client tests: one thread per connection, keep-alive. Paths: "/slow" answers after 200 ms,
// "/hang" never answers, "/close" drops the connection, "/missing" is a 404, anything else
// echoes "echo METHOD PATH BODY-LENGTH" with a 200.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace arraymorph::net {

struct Seen {
  int connection;
  std::string method, path, body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// Minimal HTTP/1.1 server: one thread per connection, keep-alive. Paths: "/slow" answers after
// 200 ms, "/hang" never answers, "/close" drops the connection, anything else echoes.
class LoopbackServer {
 public:
  // port 0: any free port.
  explicit LoopbackServer(int port = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 64);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int c : conns_) ::shutdown(c, SHUT_RDWR);
    }
    for (auto& t : workers_) t.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  int connections() const { return accepted_.load(); }
  int max_concurrent() const { return max_concurrent_.load(); }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void accept_loop() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      const int id = accepted_.fetch_add(1);
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back(c);
      workers_.emplace_back([this, c, id] { serve(c, id); });
    }
  }

  void serve(int c, int id) {
    std::string buf;
    char tmp[65536];
    for (;;) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
        if (n <= 0) return finish(c);
        buf.append(tmp, static_cast<size_t>(n));
      }
      Seen s;
      s.connection = id;
      const std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      size_t line_end = head.find("\r\n");
      const std::string first = head.substr(0, line_end);
      s.method = first.substr(0, first.find(' '));
      s.path = first.substr(first.find(' ') + 1, first.rfind(' ') - first.find(' ') - 1);
      while (line_end != std::string::npos && line_end < head.size()) {
        const size_t next = head.find("\r\n", line_end + 2);
        const std::string line = head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          const size_t v = line.find_first_not_of(' ', colon + 1);
          s.headers[name] = v == std::string::npos ? "" : line.substr(v);
        }
        line_end = next;
      }
      const size_t clen = s.headers.count("content-length") ? std::stoul(s.headers["content-length"]) : 0;
      while (buf.size() < clen) {
        const ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
        if (n <= 0) return finish(c);
        buf.append(tmp, static_cast<size_t>(n));
      }
      s.body = buf.substr(0, clen);
      buf.erase(0, clen);
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(s);
      }
      if (s.path == "/close") return finish(c);
      if (s.path == "/hang") {
        while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return finish(c);
      }
      const int now = ++concurrent_;
      int prev = max_concurrent_.load();
      while (now > prev && !max_concurrent_.compare_exchange_weak(prev, now)) {
      }
      if (s.path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(200));
      --concurrent_;
      const std::string body = s.method == "HEAD" ? "" : "echo " + s.method + " " + s.path + " " + std::to_string(s.body.size());
      std::string resp = "HTTP/1.1 " + std::string(s.path == "/missing" ? "404 Not Found" : "200 OK") +
                         "\r\nX-Test: yes\r\nContent-Length: " +
                         std::to_string(s.method == "HEAD" ? 42 : body.size()) + "\r\n\r\n" + body;
      if (::send(c, resp.data(), resp.size(), MSG_NOSIGNAL) < 0) return finish(c);
    }
  }
  void finish(int c) { ::close(c); }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0}, concurrent_{0}, max_concurrent_{0};
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
  std::vector<Seen> seen_;
  std::thread acceptor_;
};


// A port that was free a moment ago (bound, then closed): connections to it are refused.
inline int free_port() {
  LoopbackServer probe;
  return probe.port();
}

}  // namespace arraymorph::net
