"""Rule sets the tests share."""

#: Categories written for the real Call01 (a customer whose notification e-mails stopped): what it
#: should and should not match, each kind of condition once.
CALL01_RULES = """
name: test
categories:
  - name: notification_problem       # a call driver, said early by the customer
    when: {said: {by: customer, within: {first_share: 0.5}, phrases: [notification emails]}}
  - name: agent_gave_name
    when: {said: {by: agent, within: {first_s: 15}, phrases: [my name is]}}
  - name: polite_close
    when: {said: {by: customer, within: {last_s: 30}, phrases: [have a good day, thanks, thank you]}}
  - name: short_support_call
    when: {all: [{duration_s: {lt: 120}}, {metadata: {field: queue, in: [support]}}]}
  - name: billing_call                # not this call's driver
    when: {said: {by: any, phrases: [invoice, refund, my bill]}}
  - name: long_silence
    when: {silence: {longest_s: {gte: 30}}}
  - name: did_not_end_negative
    when: {not: {sentiment: {role: customer, measure: end, lte: -0.2}}}
"""
