// AWS Signature Version 4 for presigned URLs (the signature in the query string), as AWS
// documents it for S3 ("Authenticating Requests: Using Query Parameters"): whoever holds the URL
// may make that request (that method on that object), as often as they like, until it expires.
// Requests the server makes itself are signed by libcurl (CURLOPT_AWS_SIGV4); a URL handed to
// someone else cannot be, so it is built here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rainmaker::crypto {

struct AwsPresignRequest {
    std::string method;   // "GET", "PUT"
    std::string origin;   // "https://host[:port]": scheme and the Host the request carries
    std::string path;     // the object's path, not encoded ("/bucket/blobs/ab.bin")
    std::string region;   // "us-east-1"
    std::string service;  // "s3"
    std::string access_key_id;
    std::string secret_access_key;
    std::int64_t now = 0;      // unix seconds: the signature's date
    std::int64_t expires = 0;  // seconds the URL stays valid (1 .. 604800)
    // Headers the request must carry with exactly these values (lower-case names, such as
    // "content-md5"), signed beside host.
    std::vector<std::pair<std::string, std::string>> headers;
    // Further query parameters, not encoded (such as "response-content-disposition").
    std::vector<std::pair<std::string, std::string>> query;
};

// The presigned URL: origin, the encoded path and the X-Amz-* query with the signature. The
// payload is UNSIGNED-PAYLOAD, as S3 takes for presigned URLs.
std::string AwsPresignUrl(const AwsPresignRequest& request);

// URI encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) kept, '/' kept
// when `keep_slash`, everything else %XX with upper-case hex.
std::string AwsUriEncode(std::string_view text, bool keep_slash);

}  // namespace rainmaker::crypto
