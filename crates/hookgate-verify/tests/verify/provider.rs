use hookgate_verify::{Provider, Scheme};

#[test]
fn from_str_suggests_the_nearest_name() {
    let err = "githb".parse::<Provider>().unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"unknown provider "githb"; did you mean "github"?"#
    );
    assert_eq!(
        "stripee".parse::<Provider>().unwrap_err().suggestion,
        Some("stripe")
    );
    assert_eq!(
        "standard_webhooks"
            .parse::<Provider>()
            .unwrap_err()
            .suggestion,
        Some("standard-webhooks")
    );
    assert_eq!(
        "hmca".parse::<Provider>().unwrap_err().suggestion,
        Some("hmac")
    );
    assert_eq!(
        "nope".parse::<Provider>().unwrap_err().suggestion,
        Some("none")
    );
    assert_eq!("zzzzzzzz".parse::<Provider>().unwrap_err().suggestion, None);
}

#[test]
fn schemes_name_their_provider() {
    assert_eq!(Scheme::Github.provider(), Provider::Github);
    assert_eq!(
        Scheme::StandardWebhooks.provider().as_str(),
        "standard-webhooks"
    );
    assert_eq!(Provider::ALL.len(), 29);
}
