"""What a learner does with a credential: claim links, share links, badge
images, the LinkedIn "Add to profile" URL and the printable certificate.
Pure functions, used by the issuer (claim links) and the verifier (share links)."""
