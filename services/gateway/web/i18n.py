"""The pages' words in Chinese (first) and English (pure).

``choose(asked, remembered)`` picks the language: ``?lang=en`` (or ``zh``) on the URL wins and is
remembered in a cookie; without either the pages are Chinese. ``words(lang)`` gives a function
``t(key, **values)`` for the templates; a key without an English text falls back to Chinese, an
unknown key is shown as itself (so a missing text is visible, never an error). Texts that come
from the services themselves (a matter's title) are shown as they come; their refusal reasons
(marshmallow's and ``shared.inputs``' messages, the services' own) are put into Chinese by
``reason(lang, message)``: an exact table and patterns with the numbers and values kept, the
original text when none fits (the pages keep the original beside the translation)."""
import re

LANGS = ("zh", "en")
DEFAULT = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
COOKIE = "lang"

TEXT = {
    # -- the frame ---------------------------------------------------------------------------
    "site": ("黄骅市基层党建", "Huanghua grassroots Party building"),
    "skip": ("跳到正文", "Skip to the content"),
    "nav": ("主导航", "Main navigation"),
    "nav.boards": ("创星排行榜", "Star boards"),
    "nav.ticket": ("工单查询", "Ticket status"),
    "nav.console": ("工作台", "Staff console"),
    "switch": ("English", "中文"),
    "switch.label": ("Switch to English", "切换到中文"),
    "footer": ("本页信息由各服务实时提供；公开记录以哈希链校验。",
               "Live from the services; public records are checked by their hash chain."),
    "error.title": ("出错了", "Something went wrong"),
    "error.not_found": ("没有找到这个页面或记录。", "That page or record does not exist."),
    "error.unavailable": ("服务暂时不可用，请稍后再试。",
                          "A service is not available right now; try again shortly."),
    "error.internal": ("系统出错，请把请求编号告诉管理员：{request_id}",
                       "The system failed; give the administrator the request id {request_id}."),
    "error.forbidden": ("您的账号无权进行此操作：{reason}", "Your account may not do this: {reason}"),
    "error.csrf": ("表单已过期，请重新打开页面后提交。",
                   "The form has expired; open the page again and resubmit."),
    "error.outside": ("“{unit}”不在您的管辖范围（{scope}）内，不能查看。",
                      "{unit} is outside your scope ({scope}): you cannot open it."),
    "error.summary": ("请改正以下问题：", "Please correct the following:"),
    "back": ("返回", "Back"),
    # -- boards ------------------------------------------------------------------------------
    "board.title": ("创星晋级排行榜", "Star ranking board"),
    "board.kind": ("排名对象", "Who is ranked"),
    "kind.member": ("党员", "Members"),
    "kind.branch": ("党支部", "Branches"),
    "kind.committee": ("乡镇党委", "Township committees"),
    "board.area": ("范围", "Area"),
    "scope.county": ("全县", "The whole county"),
    "board.period": ("周期", "Period"),
    "board.show": ("查看", "Show"),
    "board.branches": ("本乡镇各支部的排行榜：", "Boards of this township's branches:"),
    "board.caption": ("{scope}{kind}排名（{period}）", "{kind} of {scope} ({period})"),
    "board.rank": ("名次", "Rank"),
    "board.name": ("名称", "Name"),
    "board.branch": ("所在支部", "Branch"),
    "board.stars": ("星级", "Stars"),
    "board.score": ("积分", "Score"),
    "board.tied": ("并列", "tied"),
    "board.empty": ("这个范围在这个周期还没有排名。", "Nobody is ranked here in this period yet."),
    "board.official": ("已结算，为正式结果", "Closed: the official result"),
    "board.live": ("未结算，实时更新", "Not closed yet: live, changes as activities are scored"),
    "board.names": ("党员姓名仅显示姓氏。", "Members' names show the surname only."),
    "level": ("{n} 星", "{n} stars"),
    "chart.title": ("全县{kind}星级分布（{period}）", "Star levels of the county's {kind} ({period})"),
    "chart.desc": ("各星级的数量：{summary}", "How many hold each level: {summary}"),
    "chart.level": ("星级", "Level"),
    "chart.count": ("数量", "Number"),
    "period.month": ("{year}年{month}月", "{month_name} {year}"),
    "period.quarter": ("{year}年第{quarter}季度", "Q{quarter} {year}"),
    "period.year": ("{year}年", "{year}"),
    "period.months": ("按月", "Months"),
    "period.quarters": ("按季度", "Quarters"),
    "period.years": ("按年", "Years"),
    # -- village disclosure ------------------------------------------------------------------
    "village.title": ("{village} 村务公开", "{village}: village affairs made public"),
    "village.intro": ("本村“四议两公开”重大事项的办理过程、表决结果和公开记录。",
                      "The village's major matters under the four-discussions-two-disclosures "
                      "procedure: their steps, votes and public records."),
    "check.ok": ("记录完整：本村 {records} 条公开记录逐条校验，哈希链完好，发布后未被改动。",
                 "The record is intact: all {records} public records of this village check out "
                 "against their hash chain; nothing was changed after publication."),
    "check.bad": ("记录校验未通过：从第 {at} 条公开记录起，内容与发布时不一致。原因：{reason}",
                  "The record check FAILED: from public record {at} on, the records no longer "
                  "match what was published. Reason: {reason}"),
    "check.none": ("本村还没有公开记录。", "This village has published no records yet."),
    "check.head": ("链头哈希", "Chain head hash"),
    "village.none": ("本村还没有已公开的重大事项。", "No major matter of this village is public yet."),
    "matter.item": ("事项类别", "Item"),
    "matter.amount": ("金额（元）", "Amount (yuan)"),
    "matter.status": ("状态", "Status"),
    "matter.proposed": ("提议日期", "Proposed on"),
    "matter.progress": ("实施进度", "Execution"),
    "matter.steps": ("办理步骤", "Steps"),
    "matter.publications": ("公开记录", "Public records"),
    "step.step": ("步骤", "Step"),
    "step.on": ("日期", "Date"),
    "step.outcome": ("结果", "Outcome"),
    "step.attendance": ("应到/实到", "Members / present"),
    "step.votes": ("赞成/反对/弃权", "For / against / abstain"),
    "outcome.adopted": ("通过", "adopted"),
    "outcome.rejected": ("未通过", "rejected"),
    "outcome.done": ("完成", "done"),
    "outcome.recorded": ("已记录", "recorded"),
    "step.superseded": ("（已重新办理）", "(held again)"),
    "pub.record": ("第 {seq} 条公开记录", "Public record {seq}"),
    "pub.kind.resolution": ("决议公开", "Resolution"),
    "pub.kind.implementation": ("实施结果公开", "Implementation result"),
    "pub.on": ("公开日期", "Published on"),
    "pub.days": ("公示 {n} 天", "public for {n} days"),
    "pub.hash": ("记录哈希", "Record hash"),
    "pub.prev": ("前一条哈希", "Previous hash"),
    "pub.broken": ("此条未通过校验", "This record fails the check"),
    "pub.after_break": ("此条在断点之后，不能确认", "After the break: cannot be confirmed"),
    "pub.open": ("查看", "Open"),
    "status.deliberating": ("商议表决中", "being decided"),
    "status.resolved": ("已决议", "resolved"),
    "status.executing": ("实施中", "being carried out"),
    "status.completed": ("已办结", "completed"),
    "status.ended": ("已终止", "ended"),
    # -- one public record -------------------------------------------------------------------
    "record.title": ("{village} 公开记录第 {seq} 条", "{village}: public record {seq}"),
    "record.text": ("公开内容", "What was published"),
    "record.channels": ("公开渠道", "Channels"),
    "record.evidence": ("证据材料（SHA-256）", "Evidence (SHA-256)"),
    "record.qr": ("本页二维码（张贴于公开栏）", "This page's QR code (for the notice board)"),
    "record.all": ("本村全部公开事项", "Every public matter of this village"),
    "channel.board": ("公开栏", "notice board"),
    "channel.wechat": ("微信", "WeChat"),
    "channel.sms": ("短信", "SMS"),
    "channel.qr_code": ("二维码", "QR code"),
    "channel.leaflet": ("明白纸", "leaflet"),
    # -- ticket status -----------------------------------------------------------------------
    "ticket.title": ("便民服务工单查询", "Service ticket status"),
    "ticket.number": ("工单编号", "Ticket number"),
    "ticket.hint": ("受理时回执上的数字编号", "The number on the receipt you were given"),
    "ticket.find": ("查询", "Look up"),
    "ticket.bad_number": ("请输入数字编号", "Enter the ticket's number (digits)"),
    "ticket.missing": ("没有编号为 {number} 的工单", "There is no ticket {number}"),
    "ticket.matter": ("办理事项", "Matter"),
    "ticket.status": ("当前状态", "Status"),
    "ticket.level": ("办理层级", "Handled at"),
    "ticket.opened": ("受理日期", "Opened on"),
    "ticket.due": ("办结时限", "Due by"),
    "ticket.resolved": ("办结日期", "Resolved on"),
    "ticket.late": ("已超出时限", "Past its time limit"),
    "ticket.history": ("办理经过", "What happened"),
    "ticket.privacy": ("为保护个人信息，此处不显示申请人和经办人。",
                       "To protect personal data the requester and staff are not shown."),
    "tstatus.open": ("待接单", "open"),
    "tstatus.accepted": ("已接单", "accepted"),
    "tstatus.in_progress": ("办理中", "in progress"),
    "tstatus.waiting": ("等待补充材料", "waiting"),
    "tstatus.resolved": ("已办结", "resolved"),
    "tstatus.closed": ("已关闭", "closed"),
    "tlevel.village": ("村级服务站", "village station"),
    "tlevel.township": ("乡镇便民服务中心", "township service centre"),
    "tlevel.city": ("市级平台", "city platform"),
    "taction.open": ("受理", "opened"),
    "taction.accept": ("接单", "accepted"),
    "taction.start": ("开始办理", "work started"),
    "taction.wait": ("等待补充", "waiting"),
    "taction.resume": ("恢复办理", "resumed"),
    "taction.resolve": ("办结", "resolved"),
    "taction.close": ("关闭", "closed"),
    "taction.reopen": ("重新办理", "reopened"),
    "taction.escalate": ("上报上级", "sent up a level"),
    "taction.reassign": ("转交", "reassigned"),
    "taction.rate": ("评价", "rated"),
    "taction.breach": ("超时", "time limit passed"),
    # -- console -----------------------------------------------------------------------------
    "login.title": ("工作人员登录", "Staff log-in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.wrong": ("用户名或密码错误。", "Wrong user name or password."),
    "login.locked": ("登录失败次数过多，请 {seconds} 秒后再试。",
                     "Too many failed log-ins; try again in {seconds} seconds."),
    "login.required": ("必填", "Required"),
    "login.expired": ("登录已过期，请重新登录。", "Your log-in has expired; log in again."),
    "logout": ("退出登录", "Log out"),
    "console.title": ("工作台", "Staff console"),
    "console.who": ("当前用户：{user}（{role}），范围：{scope}",
                    "Logged in as {user} ({role}), scope: {scope}"),
    "console.viewing": ("正在查看：{unit}", "Viewing: {unit}"),
    "console.own": ("回到本人工作台", "Back to my own console"),
    "console.record": ("登记党员活动", "Record a member's activity"),
    "console.boards": ("查看排行榜", "Ranking boards"),
    "console.village": ("本村村务公开页", "This village's disclosure page"),
    "console.actions": ("工作台操作", "Console actions"),
    "console.upload": ("导入活动表格", "Upload a sheet"),
    "console.step": ("登记事项办理步骤", "Record a matter's step"),
    "console.open_ticket": ("受理便民服务工单", "Open a service ticket"),
    "console.escalate": ("上报工单", "Escalate a ticket"),
    # -- console panels ----------------------------------------------------------------------
    "panel.refused": ("此部分暂不能显示：{reason}", "This part cannot be shown: {reason}"),
    "panel.down": ("此部分的服务暂时不可用，请稍后刷新。",
                   "The service behind this part is not available; reload shortly."),
    "panel.tickets": ("便民服务工单", "Service tickets"),
    "panel.tickets.states": ("按办结时限", "By time limit"),
    "panel.state": ("时限状态", "Time limit"),
    "panel.tickets.urgent": ("已超时和即将到期的工单", "Tickets past or near their time limit"),
    "panel.action": ("操作", "Action"),
    "panel.measures": ("便民服务中心指标（{period}）", "Service centre measures ({period})"),
    "tlimit.breached": ("已超时", "past the limit"),
    "tlimit.due_soon": ("即将到期（1 天内）", "due within a day"),
    "tlimit.on_track": ("时限内办理中", "within the limit"),
    "tlimit.paused": ("等待补充（暂停计时）", "waiting (clock paused)"),
    "tlimit.done": ("已办结", "resolved or closed"),
    "measure.opened": ("受理件数", "Opened"),
    "measure.resolved": ("办结件数", "Resolved"),
    "measure.on_time": ("按时办结率", "Resolved on time"),
    "measure.settled_in_village": ("村内办结率", "Settled in the village"),
    "measure.settled_in_township": ("乡镇内办结率", "Settled within the township"),
    "measure.satisfied": ("满意率", "Satisfied"),
    "panel.matters": ("办理中的村级重大事项", "Village matters in progress"),
    "panel.matters.counts": ("办理中共 {n} 件", "{n} in progress"),
    "panel.matters.none": ("目前没有办理中的事项。", "No matter is in progress."),
    "panel.matters.open": ("办理中事项", "Matters in progress"),
    "panel.matters.unknown": ("村务事项数量暂不能显示。", "The matters' figures cannot be shown now."),
    "panel.matter": ("事项", "Matter"),
    "panel.village": ("村", "Village"),
    "panel.stars": ("星级分布", "Star levels"),
    "panel.trend": ("月度积分走势", "Monthly score"),
    "panel.county": ("各乡镇对比（{period}）", "Townships compared ({period})"),
    "panel.township": ("乡镇", "Township"),
    "chart.measures": ("便民服务中心指标（{period}，%）", "Service centre measures ({period}, %)"),
    "chart.desc.percent": ("各项百分比：{summary}", "Each share in per cent: {summary}"),
    "chart.scope_levels": ("{scope}{kind}星级分布（{period}）",
                           "Star levels of {scope}'s {kind} ({period})"),
    "chart.trend": ("{scope}近六个月积分", "{scope}: score over the last six months"),
    "chart.county_scores": ("各乡镇党委积分（{period}）", "Township committees' scores ({period})"),
    "chart.county_on_time": ("各乡镇工单按时办结率（{period}，%）",
                             "Tickets resolved on time by township ({period}, %)"),
    # -- console forms -----------------------------------------------------------------------
    "form.again": ("再填一份", "Fill in another"),
    "stepform.title": ("登记事项办理步骤", "Record a matter's step"),
    "stepform.intro": ("带 * 的为必填项；会议步骤填写应到、实到人数和表决结果。",
                       "Fields marked * are required; for a meeting give the members, how many "
                       "were present and the votes."),
    "stepform.matter_id": ("事项编号 *", "Matter number *"),
    "stepform.matter_id.hint": ("工作台“办理中的事项”表中的编号",
                                "The number in the console's table of matters in progress"),
    "stepform.step": ("办理步骤 *", "Step *"),
    "stepform.on": ("办理日期 *", "Date *"),
    "stepform.form": ("会议形式", "Kind of meeting"),
    "stepform.form.hint": ("村民会议或村民代表会议等", "A villagers' or representatives' meeting"),
    "stepform.attendance_members": ("应到人数", "Members"),
    "stepform.attendance.hint": ("会议步骤必填", "Required for meetings"),
    "stepform.attendance_present": ("实到人数", "Present"),
    "stepform.votes_for": ("赞成票", "Votes for"),
    "stepform.votes.hint": ("表决步骤必填，三项都要填", "Required for votes: all three counts"),
    "stepform.votes_against": ("反对票", "Votes against"),
    "stepform.votes_abstain": ("弃权票", "Abstentions"),
    "stepform.notice_days": ("公示天数", "Days on public notice"),
    "stepform.notice_days.hint": ("公开步骤填写", "For a publication step"),
    "stepform.note": ("备注", "Note"),
    "stepform.submit": ("登记步骤", "Record the step"),
    "stepform.done": ("已登记事项 {matter} 的办理步骤：{title}", "Step recorded for matter {matter}: {title}"),
    "ticket_form.title": ("受理便民服务工单", "Open a service ticket"),
    "ticket_form.intro": ("带 * 的为必填项；代办员代办需另行登记群众同意。",
                          "Fields marked * are required; a proxy agent's ticket needs the "
                          "villager's consent recorded separately."),
    "ticket_form.service_point_id": ("受理站点 *", "Service point *"),
    "ticket_form.matter_code": ("办理事项 *", "Matter *"),
    "ticket_form.requester_name": ("申请人姓名 *", "Requester's name *"),
    "ticket_form.requester_phone": ("联系电话", "Phone"),
    "ticket_form.requester_phone.hint": ("11 位手机号", "An 11-digit mobile number"),
    "ticket_form.address": ("地址", "Address"),
    "ticket_form.description": ("情况说明", "Description"),
    "ticket_form.submit": ("受理", "Open the ticket"),
    "ticket_form.done": ("已受理，工单编号 {number}。请把编号告诉群众，用于查询办理进度。",
                         "Opened: ticket number {number}. Give the number to the villager to "
                         "follow it."),
    "ticket_form.status": ("查看工单状态", "See the ticket's status"),
    "escalate.title": ("上报工单", "Escalate a ticket"),
    "escalate.intro": ("把工单上报上一级办理，需说明原因。",
                       "Send a ticket up one level; say why."),
    "escalate.ticket_id": ("工单编号 *", "Ticket number *"),
    "escalate.reason": ("上报原因 *", "Reason *"),
    "escalate.note": ("备注", "Note"),
    "escalate.submit": ("上报", "Escalate"),
    "escalate.done": ("工单 {number} 已上报至{level}。", "Ticket {number} sent up to the {level}."),
    "upload.title": ("导入表格", "Upload a sheet"),
    "upload.intro": ("上传 CSV 或 XLSX 表格（第一行为列名）。任何一行有错，整张表都不导入，并列出每行的问题。",
                     "Upload a CSV or XLSX sheet (the first row names the columns). If any row "
                     "is wrong nothing is stored, and every row's problems are listed."),
    "upload.kind": ("表格类型 *", "Kind of sheet *"),
    "upload.kind.hint": ("活动表登记党员的活动；党员名册登记本支部的新党员",
                         "An activity sheet records members' activities; a roster registers "
                         "the branch's new members"),
    "upload.kind.activities": ("党员活动表", "Members' activities"),
    "upload.kind.members": ("党员名册", "Member roster"),
    "upload.kind_missing": ("这种表格暂时不能导入", "this kind of sheet cannot be imported yet"),
    "upload.branch_id": ("所属支部 *", "Branch *"),
    "upload.file": ("表格文件 *", "Sheet file *"),
    "upload.file.hint": ("CSV（UTF-8）或 XLSX，不超过 5 MB", "CSV (UTF-8) or XLSX, at most 5 MB"),
    "upload.progress": ("上传进度", "Upload progress"),
    "upload.sending": ("正在上传", "Uploading"),
    "upload.failed": ("上传失败，请检查网络后重试。", "The upload failed; check the connection and retry."),
    "upload.submit": ("上传并导入", "Upload and import"),
    "upload.done": ("已从 {file} 导入 {n} 行。", "{n} rows imported from {file}."),
    "upload.rows": ("各行的问题", "Problems by row"),
    "upload.row": ("行号", "Row"),
    "upload.column": ("列", "Column"),
    "upload.reason": ("问题", "Problem"),
    "upload.rows_bad": ("{n} 行有问题，见下方“各行的问题”表", "{n} row(s) have problems: see the table below"),
    "upload.templates": ("空白表格模板（第一行为列名，可用 Excel 打开填写）：",
                         "Blank sheets to fill in (the first row names the columns; opens in "
                         "Excel):"),
    "upload.template": ("下载{kind}模板（CSV）", "Download the {kind} template (CSV)"),
    "upload.none_stored": ("整张表未导入；改正后重新上传。",
                           "Nothing from this sheet was stored; correct it and upload it again."),
    # -- the landing page --------------------------------------------------------------------
    "home.title": ("黄骅市基层党建公开平台", "Huanghua grassroots Party building"),
    "home.intro": ("创星晋级排行榜、村务公开和便民服务工单查询，向群众公开。",
                   "Star ranking boards, village affairs made public and service ticket status, "
                   "open to everyone."),
    "home.county_board": ("全县创星排行榜", "The county's star boards"),
    "home.townships": ("各乡镇（街道）", "Townships"),
    "home.township_board": ("{township}排行榜", "{township}: star board"),
    "home.villages": ("各村村务公开（{n} 个）", "Villages' disclosure pages ({n})"),
    "home.disclosure": ("{village}村务公开", "{village}: village affairs"),
    "home.none": ("还没有乡镇信息。", "No township is known yet."),
    "role.county_admin": ("县委组织部管理员", "county administrator"),
    "role.township_staff": ("乡镇工作人员", "township staff"),
    "role.village_cadre": ("村干部", "village cadre"),
    "role.supervisor": ("村务监督委员", "supervisor"),
    "role.proxy_agent": ("代办员", "proxy agent"),
    "role.auditor": ("审计员", "auditor"),
    "activity.title": ("登记党员活动", "Record a member's activity"),
    "activity.intro": ("带 * 的为必填项；其余字段只在所选活动类型需要时填写。",
                       "Fields marked * are required; fill the others only when the kind of "
                       "activity needs them."),
    "activity.member_id": ("党员编号 *", "Member number *"),
    "activity.kind": ("活动类型 *", "Kind of activity *"),
    "activity.occurred_on": ("活动日期 *", "Date *"),
    "activity.hours": ("服务时长（小时）", "Hours"),
    "activity.hours.hint": ("志愿服务必填", "Required for volunteer service"),
    "activity.team_id": ("志愿服务队编号", "Volunteer team number"),
    "activity.project": ("服务项目", "Project"),
    "activity.meeting_kind": ("会议类型", "Kind of meeting"),
    "activity.meeting_kind.hint": ("组织生活会议必填", "Required for meetings"),
    "activity.attended": ("是否参加", "Attended"),
    "activity.attended.hint": ("会议、学习必填", "Required for meetings and study"),
    "activity.amount": ("捐款金额（元）", "Amount donated (yuan)"),
    "activity.amount.hint": ("捐款必填", "Required for donations"),
    "activity.households": ("结对帮扶户数", "Households paired with"),
    "activity.households.hint": ("结对帮扶必填", "Required for pairing"),
    "activity.choose": ("请选择", "Choose"),
    "activity.yes": ("是", "yes"),
    "activity.no": ("否", "no"),
    "activity.submit": ("登记", "Record"),
    "activity.done": ("已登记活动 {id}（党员 {member}，{date}）。",
                      "Activity {id} recorded (member {member}, {date})."),
    "activity.later": ("积分由创星系统异步计算，通常几秒内出现在排行榜上：",
                       "The star system scores it shortly (usually within seconds); see it on "
                       "the board:"),
    "activity.board": ("{branch}本月党员排行榜", "{branch}: this month's member board"),
    "activity.no_member": ("没有这个编号的党员", "there is no member with this number"),
    "activity.another": ("再登记一条", "Record another"),
    "akind.volunteer_service": ("志愿服务", "volunteer service"),
    "akind.meeting": ("组织生活会议", "meeting"),
    "akind.study": ("学习", "study"),
    "akind.blood_donation": ("无偿献血", "blood donation"),
    "akind.donation": ("捐款", "donation"),
    "akind.pairing": ("结对帮扶", "pairing with households"),
    "akind.community_report": ("到社区报到", "reporting to the community"),
    "akind.badge_wearing": ("佩戴党徽", "wearing the Party badge"),
    "mkind.branch_committee": ("支委会", "branch committee"),
    "mkind.member_assembly": ("党员大会", "member assembly"),
    "mkind.group_meeting": ("党小组会", "group meeting"),
    "mkind.party_lesson": ("党课", "Party lesson"),
}

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


def choose(asked: str | None, remembered: str | None) -> str:
    """The page's language: asked on the URL, else remembered in the cookie, else Chinese."""
    for candidate in (asked, remembered):
        if candidate in LANGS:
            return candidate
    return DEFAULT


def text(lang: str, key: str, **values) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    template = pair[1] if lang == "en" and pair[1] else pair[0]
    return template.format(**values) if values else template


def words(lang: str):
    """``t(key, **values)`` in ``lang``; ``t.lang`` is the language."""
    def t(key, **values):
        return text(lang, key, **values)
    t.lang = lang
    return t


def label(lang: str, prefix: str, code) -> str:
    """A code's words (``label("zh", "tstatus", "open")``), the code itself when unknown."""
    key = f"{prefix}.{code}"
    return text(lang, key) if key in TEXT else str(code)


# -- the services' refusal reasons in Chinese ------------------------------------------------------

REASONS = {
    # marshmallow's defaults
    "Missing data for required field.": "必填项",
    "Field may not be null.": "不能为空",
    "Invalid value.": "值无效",
    "Invalid type.": "类型不对",
    "Invalid input.": "输入无效",
    "Invalid input type.": "输入类型不对",
    "Unknown field.": "不认识的字段",
    "Not a valid string.": "应为文字",
    "Not a valid utf-8 string.": "不是有效的 UTF-8 文字",
    "Not a valid number.": "应为数字",
    "Not a valid integer.": "应为整数",
    "Number too large.": "数字太大",
    "Special numeric values (nan or infinity) are not permitted.": "不能是 NaN 或无穷大",
    "Not a valid boolean.": "应为“是”或“否”",
    "Not a valid date.": "不是有效日期（格式如 2026-11-26）",
    "Not a valid datetime.": "不是有效的日期时间",
    "Not a valid time.": "不是有效时间",
    "Not a valid list.": "应为列表",
    "Not a valid tuple.": "应为列表",
    "Not a valid mapping type.": "应为对象（键值对）",
    "Not a valid URL.": "不是有效网址",
    "Not a valid email address.": "不是有效电子邮箱",
    "Not a valid UUID.": "不是有效的 UUID",
    "String does not match expected pattern.": "格式不对",
    # shared.inputs and shared.validation
    "is required": "必填",
    "must be text": "应为文字",
    "must be non-empty text": "不能为空",
    "must be a positive id": "应为正整数编号",
    "must be a positive whole number (an id)": "应为正整数编号",
    "must be a positive whole number": "应为正整数",
    "must be true or false": "应为“是”或“否”",
    "must be a date like 2026-11-26": "应为日期，格式如 2026-11-26",
    "must be a date": "应为日期",
    "must be a finite number": "应为有限的数",
    "must be an object (a JSON dictionary)": "应为对象（JSON 字典）",
    "must be an object": "应为对象",
    # the pages' own checks (rules)
    "must be a whole number (0 or more)": "应为整数（0 或以上）",
    "give both the members and how many were present, or neither": "应到人数和实到人数要么都填，要么都不填",
    "give all three vote counts, or none": "赞成、反对、弃权三项票数要么都填，要么都不填",
    "choose a CSV or XLSX file": "请选择 CSV 或 XLSX 文件",
    "must be a .csv or .xlsx file": "应为 .csv 或 .xlsx 文件",
    # members
    "must not be in the future": "不能晚于今天",
    "is in the future": "不能晚于今天",
    "is before the member joined": "早于该党员入党日期",
    "must be 0 or more": "应为 0 或以上",
    "must be at least 1": "至少为 1",
    "must be a phone number": "应为电话号码",
    "must be 18 characters": "应为 18 位",
    "must be 17 digits followed by a digit or X": "应为 17 位数字加 1 位数字或 X",
    "contains an impossible birth date": "其中的出生日期不存在",
    "check digit does not match (GB 11643)": "校验位不符（GB 11643）",
    "resident_id or member_id is required": "身份证号（resident_id）和党员编号（member_id）至少填一项",
    "no member of this branch has this resident ID": "本支部没有这个身份证号的党员",
    "does not match the member found by resident_id": "与按身份证号找到的党员不一致",
    "values found right of the last named column": "最后一个有列名的列右边还有内容",
    "store resident IDs as text: a number cell loses digits": "身份证号请存为文本：数字格式的单元格会丢失位数",
    "the sheet is empty": "表格是空的",
    "the file is empty": "文件是空的",
    "no data rows below the header": "列名行下面没有数据",
    'the CSV is not UTF-8 text; save it as "CSV UTF-8"': "CSV 文件不是 UTF-8 编码；请另存为“CSV UTF-8”",
    "unknown format: upload a .csv or .xlsx file": "不认识的格式：请上传 .csv 或 .xlsx 文件",
    "old .xls workbooks are not supported; save the sheet as .xlsx or CSV UTF-8":
        "不支持旧的 .xls 文件；请另存为 .xlsx 或 CSV UTF-8",
    "is not base64": "不是 base64 编码",
    "is not valid base64": "不是有效的 base64 编码",
    "say why the activity is revoked": "请说明撤销原因",
    "the member already belongs to this branch": "该党员已在本支部",
    # affairs and tickets
    "only publication steps have a notice period and channels": "只有公开步骤才填写公示天数和公开渠道",
    "cannot escalate: the city platform is the highest level": "不能上报：市级平台已是最高层级",
    "only a resolved or closed ticket can be reopened": "只有已办结或已关闭的工单才能重新办理",
    "only a resolved outcome can be rated": "只有已办结的工单才能评价",
    "cannot rate: this outcome was already rated": "不能评价：已评价过",
    "give service_point_id, agent_id or both": "请填写受理站点（service_point_id）或代办员（agent_id）",
}

_COMPARISONS = {"greater than or equal to": "大于或等于", "greater than": "大于",
                "less than or equal to": "小于或等于", "less than": "小于"}
_COMPARE = r"(?:greater|less) than(?: or equal to)?"

# (pattern matched against the whole message, Chinese with the pattern's named groups); a group
# named like a words prefix (``akind``, ``role``, ``taction``, ``tstatus``) is put in words,
# ``op``/``op2`` are comparisons
REASON_PATTERNS = tuple((re.compile(pattern), chinese) for pattern, chinese in (
    # marshmallow's validators
    (r"Must be one of: (?P<choices>.+)\.", "应为以下之一：{choices}"),
    (r"One or more of the choices you made was not in: (?P<choices>.+)\.",
     "有选项不在可选范围内：{choices}"),
    (r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.", "长度应为 {min} 到 {max} 个字符"),
    (r"Length must be (?P<n>\d+)\.", "长度应为 {n} 个字符"),
    (r"Shorter than minimum length (?P<n>\d+)\.", "长度不能少于 {n} 个字符"),
    (r"Longer than maximum length (?P<n>\d+)\.", "长度不能超过 {n} 个字符"),
    (rf"Must be (?P<op>{_COMPARE}) (?P<a>\S+) and (?P<op2>{_COMPARE}) (?P<b>\S+)\.",
     "应{op} {a} 且{op2} {b}"),
    (rf"Must be (?P<op>{_COMPARE}) (?P<a>\S+)\.", "应{op} {a}"),
    (r"Must be equal to (?P<other>.+)\.", "应等于 {other}"),
    # shared.inputs
    (r"must be at least (?P<n>\d+) characters", "至少 {n} 个字符"),
    (r"must be at most (?P<n>\d+) characters", "最多 {n} 个字符"),
    (r"must be (?P<min>\d+) to (?P<max>\d+) characters", "应为 {min} 到 {max} 个字符"),
    (r"must be a whole number from (?P<min>-?\d+) to (?P<max>-?\d+)", "应为 {min} 到 {max} 之间的整数"),
    (r"must be a whole number up to (?P<max>-?\d+)", "应为不超过 {max} 的整数"),
    (r"must be a whole number of days from (?P<min>\d+) to (?P<max>\d+)", "应为 {min} 到 {max} 天"),
    (r"must not contain control characters \(found (?P<found>.+)\)", "不能含控制字符（发现 {found}）"),
    (r"at most (?P<n>\d+) decimal places", "最多 {n} 位小数"),
    (r"at most (?P<n>\d+) digits before the decimal point", "整数部分最多 {n} 位"),
    (r"must be one of (?P<choices>.+?)(?: \(found (?P<found>.+)\))?", "应为以下之一：{choices}"),
    (r"must be among (?P<choices>.+)", "应为以下几项中的：{choices}"),
    # the pages' own checks
    (r"is larger than (?P<n>\d+) MB", "超过 {n} MB"),
    # members
    (r"must be more than (?P<min>[\d.]+) and at most (?P<max>[\d.]+)", "应大于 {min} 且不超过 {max}"),
    (r"must be (?P<min>\d+) to (?P<max>\d+)", "应为 {min} 到 {max}"),
    (r"required for kind (?P<akind>\w+)", "“{akind}”活动必填"),
    (r"does not apply to kind (?P<akind>\w+)", "“{akind}”活动不填此项"),
    (r"must not be more than (?P<n>\d+) days ago", "不能早于 {n} 天前"),
    (r"must be on or after (?P<day>\d{4}-\d\d-\d\d)", "不能早于 {day}"),
    (r"is before the member joined \((?P<day>[^)]+)\)", "早于该党员入党日期（{day}）"),
    (r"volunteer team (?P<n>\d+) does not exist", "志愿服务队 {n} 不存在"),
    (r"already registered \(member (?P<n>\d+)\)", "已登记（党员 {n}）"),
    (r"the same resident ID is on row\(s\) (?P<rows>.+)", "同一身份证号也在第 {rows} 行"),
    (r"birth date (?P<a>\S+) differs from birth_date (?P<b>\S+)",
     "身份证号中的出生日期 {a} 与出生日期 {b} 不一致"),
    (r"sequence digit says (?P<a>\w+), gender says (?P<b>\w+)", "身份证号顺序码表明性别为 {a}，性别栏为 {b}"),
    (r"unknown column\(s\): (?P<unknown>.+); allowed: (?P<allowed>.+)",
     "不认识的列：{unknown}；可用的列：{allowed}"),
    (r"missing column\(s\): (?P<columns>.+)", "缺少列：{columns}"),
    (r"repeated column\(s\): (?P<columns>.+)", "列名重复：{columns}"),
    (r"row 1 must be the header row naming the columns: (?P<columns>.+)",
     "第 1 行应为列名行：{columns}"),
    (r"more than (?P<n>\d+) data rows; split the file", "数据超过 {n} 行，请拆分文件"),
    (r"unreadable CSV near line (?P<n>\d+): (?P<why>.+)", "CSV 第 {n} 行附近无法读取：{why}"),
    (r"unreadable XLSX file \((?P<why>.+)\)", "XLSX 文件无法读取（{why}）"),
    (r"unit (?P<n>\d+) is a (?P<kind>\w+), not a branch", "单位 {n} 是 {kind}，不是党支部"),
    (r"unit (?P<n>\d+) was dissolved(?: on (?P<day>\S+))?", "单位 {n} 已撤销"),
    # affairs
    (r"(?P<present>\d+) present is more than the (?P<members>\d+) members",
     "实到 {present} 人，多于应到的 {members} 人"),
    (r"(?P<cast>\d+) votes cast is more than the (?P<present>\d+) present",
     "共投 {cast} 票，多于实到的 {present} 人"),
    (r"a meeting step \((?P<step>.+)\) records its (?P<what>attendance|votes)",
     "会议步骤（{step}）须填写{what}"),
    (r"only meeting steps have a (?P<what>\w+)", "只有会议步骤才填写{what}"),
    (r"must be on or after the proposal \((?P<day>[^)]+)\)", "不能早于提议日期（{day}）"),
    (r"matter (?P<n>\d+) is (?P<status>\w+) \(since (?P<day>[^)]*)\): no further steps",
     "事项 {n} {status}（{day}），不能再登记步骤"),
    (r"(?P<step>.+) \((?P<code>\w+)\) of matter (?P<n>\d+) was already recorded on (?P<day>\S+)",
     "事项 {n} 的“{step}”已于 {day} 登记过"),
    # tickets
    (r"cannot (?P<taction>\w+) a ticket that is (?P<tstatus>[\w ]+)",
     "“{tstatus}”状态的工单不能{taction}"),
    # the scope checks (shared.scope, the gateway's roles)
    (r"organisation unit (?P<unit>\d+) is outside your scope \(unit (?P<scope>\w+)\)",
     "组织单位 {unit} 不在您的管辖范围（单位 {scope}）内"),
    (r"role (?P<role>\w+) does not grant (?P<permission>\S+)",
     "{role}的角色没有“{permission}”权限"),
    (r"(?P<rpc>\S+) acts on the whole county; your role (?P<role>\w+) is limited to unit "
     r"(?P<scope>\w+)", "{rpc} 涉及全县；{role}的权限只限于单位 {scope}"),
    (r"(?P<argument>\S+): name a unit inside your scope \(unit (?P<scope>\w+)\)",
     "{argument}：请指定您管辖范围（单位 {scope}）内的单位"),
))

_REASON_WORDS = {"what": {"attendance": "应到和实到人数", "votes": "表决票数",
                          "attendance_members": "应到人数", "votes_for": "表决票数",
                          "form": "会议形式"}}


def _in_words(name: str, value: str | None) -> str:
    if value is None:
        return ""
    if name in ("op", "op2"):
        return _COMPARISONS.get(value, value)
    if name in _REASON_WORDS:
        return _REASON_WORDS[name].get(value, value)
    code = value.replace(" ", "_")
    key = f"{name}.{code}"
    return TEXT[key][0] if key in TEXT else value


def reason(lang: str, message) -> str:
    """A service's (or the pages' own) refusal reason in the page's language: in Chinese from
    ``REASONS`` or the first of ``REASON_PATTERNS`` that matches the whole message (the numbers
    and values it captures kept); in English, or when nothing fits, the message as it came."""
    message = "" if message is None else str(message)
    if lang != "zh":
        return message
    known = REASONS.get(message.strip())
    if known is not None:
        return known
    for pattern, chinese in REASON_PATTERNS:
        match = pattern.fullmatch(message.strip())
        if match:
            return chinese.format(**{name: _in_words(name, value)
                                     for name, value in match.groupdict().items()})
    return message
