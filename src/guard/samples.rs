//! One credential of each kind the guard must catch, built at run time (so cove's own
//! source holds none whole), for the unit tests, `tests/guard_*.rs` and the bench.
//! None of them is real.

/// `(kind the redactor names it, text holding it, the secret itself)`.
pub fn secrets() -> Vec<(&'static str, String, String)> {
    let j = |parts: &[&str]| parts.concat();
    let aws_id = j(&["AKIA", "Q3X7Z2RMPL5WVYHK"]);
    let aws_secret = j(&["Zq8vR2kP9xL4mN7b", "T1cW5yH3jF6gD0sA", "e2Uq/Ko+"]);
    let gh = j(&["ghp_", "R8kz2Qm4Xv7Lp9Tn3Wb6", "Yc1Hd5Jf0Gs2Ae4K"]);
    let gl = j(&["glpat-", "x7Kp2Qz9Lm4Rv8Tn3Wb6"]);
    let slack = j(&[
        "xoxb-",
        "2849301756",
        "-4820193847562-",
        "Qz7kLp2Xv9Rm4Tn8Wb3Yc6H",
    ]);
    let jwt = j(&[
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        ".eyJzdWIiOiI0MjQyNDIiLCJuYW1lIjoiQ292ZSBUZXN0ZXIifQ",
        ".Qk9xZ3J2T1pXcm5mVmt4aF9hc2RmZ2hqa2w",
    ]);
    let key = j(&[
        "-----BEGIN ",
        "RSA PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEAx7Kp2Qz9Lm4Rv8Tn3Wb6Yc1Hd5Jf0Gs2Ae4KzR8kz2Qm4Xv7\n",
        "Lp9Tn3Wb6Yc1Hd5Jf0Gs2Ae4KqZ8vR2kP9xL4mN7bT1cW5yH3jF6gD0sAe2UqKo\n",
        "-----END RSA ",
        "PRIVATE KEY-----",
    ]);
    let password = j(&["Vq7#pL9!", "zR2@xM4k"]);
    let url_pw = j(&["Zr8vK2", "pQ9xL4"]);
    vec![
        (
            "aws-access-token",
            format!("export AWS_ACCESS_KEY_ID={aws_id}"),
            aws_id,
        ),
        (
            "aws-secret-access-key",
            format!("aws_secret_access_key = {aws_secret}"),
            aws_secret,
        ),
        ("github-pat", format!("GITHUB_TOKEN={gh}"), gh),
        ("gitlab-pat", format!("token: {gl}"), gl),
        ("slack-bot-token", format!("slack = \"{slack}\""), slack),
        ("jwt", format!("Authorization: Bearer {jwt}"), jwt),
        ("private-key", key.clone(), key),
        (
            "password-assignment",
            format!("DB_PASSWORD={password}"),
            password,
        ),
        (
            "url-credentials",
            format!("DATABASE_URL=postgres://admin:{url_pw}@db.internal:5432/app"),
            url_pw,
        ),
    ]
}
