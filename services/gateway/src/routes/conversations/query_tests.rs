use super::*;

#[test]
fn a_cursor_round_trips_and_garbage_is_refused() {
    let cursor = Cursor {
        started_at: DateTime::from_millis(1_700_000_000_123),
        id: ObjectId::from_bytes([7; 12]),
    };
    assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
    for bad in [
        "",
        "!!",
        "bm90IGEgY3Vyc29y",
        &URL_SAFE_NO_PAD.encode("12:xyz"),
    ] {
        assert_eq!(Cursor::decode(bad), Err(ParamError::Cursor), "{bad}");
    }
}

#[test]
fn page_sizes_outside_one_to_a_hundred_are_refused() {
    assert_eq!(page_size(None), Ok(PAGE_SIZE_DEFAULT));
    assert_eq!(page_size(Some("100")), Ok(100));
    for bad in ["0", "101", "abc", "-1", "1.5", ""] {
        assert_eq!(page_size(Some(bad)), Err(ParamError::PageSize), "{bad}");
    }
}

#[test]
fn a_user_sees_only_their_own_and_the_filters_all_hold() {
    let me = ObjectId::from_bytes([1; 12]);
    let filter = Filter {
        agent_id: Some("agent_1".into()),
        status: Some(Status::Done),
        ..Filter::default()
    };
    assert_eq!(
        page_filter(Scope::Owner(me), &filter, None, Order::NewestFirst),
        doc! { "$and": [
            { "userId": me },
            { "agentId": "agent_1" },
            { "status": "done" },
        ] }
    );
    assert_eq!(
        page_filter(Scope::All, &Filter::default(), None, Order::NewestFirst),
        Document::new()
    );
}

#[test]
fn a_user_id_that_is_no_object_id_matches_nobody() {
    let filter = Filter {
        user_id: Some("someone".into()),
        ..Filter::default()
    };
    assert_eq!(
        page_filter(Scope::All, &filter, None, Order::NewestFirst),
        doc! { "userId": "someone" }
    );
}

#[test]
fn the_cursor_continues_after_the_last_sort_key() {
    let cursor = Cursor {
        started_at: DateTime::from_millis(5),
        id: ObjectId::from_bytes([2; 12]),
    };
    assert_eq!(
        page_filter(
            Scope::All,
            &Filter::default(),
            Some(&cursor),
            Order::OldestFirst
        ),
        doc! { "$or": [
            { "startedAt": { "$gt": cursor.started_at } },
            { "startedAt": cursor.started_at, "_id": { "$gt": cursor.id } },
        ] }
    );
}

#[test]
fn search_text_is_matched_literally() {
    let search = Search::new(" a.b* ").expect("valid");
    assert_eq!(search.pattern, r"a\.b\*");
    assert!(Search::new("   ").is_err());
    assert!(Search::new(&"x".repeat(SEARCH_MAX_CHARS + 1)).is_err());
}
