"""Access requests: the SOP's request form (แบบคำร้องขอเข้าถึงระบบสารสนเทศ) as a workflow that
feeds the approved-accounts register ``dlict_accounts`` the identity controls audit (ID-09)."""
